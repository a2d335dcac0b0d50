/**
 * UTF-8 encoding of keys into one reusable buffer, so hashing never allocates.
 * One-at-a-time and MD5 read ASCII strings' char codes directly and come here
 * only for other strings; the other key hashes read every key from here.
 */

const encoder = new TextEncoder();

// Big enough for any memcached key (250 bytes); grows for longer strings.
let scratch = new Uint8Array(1024);

/**
 * Encodes `text` as UTF-8 into the shared scratch buffer and returns the byte
 * count; read the bytes from `utf8Scratch()` before the next call.
 * Lone surrogates become U+FFFD, as with TextEncoder everywhere.
 */
export function encodeUtf8ToScratch(text: string): number {
  // Each UTF-16 code unit encodes to at most 3 bytes.
  const worstCase = text.length * 3;
  if (worstCase > scratch.length) scratch = new Uint8Array(worstCase);
  return encoder.encodeInto(text, scratch).written;
}

/** The buffer `encodeUtf8ToScratch` last wrote into. */
export function utf8Scratch(): Uint8Array {
  return scratch;
}

/**
 * Writes `text`'s UTF-8 bytes into the scratch buffer and returns the count:
 * for the hashes that read their input in blocks. An ASCII string is copied
 * char by char, as encodeInto would return a fresh result object.
 */
export function writeUtf8ToScratch(text: string): number {
  const length = text.length;
  if (length > scratch.length) scratch = new Uint8Array(length * 3);
  const bytes = scratch;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return encodeUtf8ToScratch(text);
    bytes[i] = c;
  }
  return length;
}
