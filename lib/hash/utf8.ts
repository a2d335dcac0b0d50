/**
 * UTF-8 encoding of non-ASCII strings into one reusable buffer, for the hash
 * functions' slow path. ASCII strings never come here: the hashes read their
 * char codes directly.
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
