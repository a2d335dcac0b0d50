// UTF-8 for the transcoders: strings kept byte for byte (a leading BOM too),
// and bytes that are not UTF-8 told apart rather than replaced.
const exact = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** The bytes as a string, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return exact.decode(bytes);
  } catch {
    return null;
  }
}

/** The bytes as a string, invalid sequences as U+FFFD (for numbers, JSON: ASCII in practice). */
export function utf8(bytes: Uint8Array): string {
  return lenient.decode(bytes);
}

export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A decimal integer as a number, or a bigint beyond 2^53; null when the text is not one. */
export function integer(text: string): number | bigint | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  // Up to 15 digits a double is exact.
  if (text.length <= 15) return Number(text);
  const big = BigInt(text);
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}
