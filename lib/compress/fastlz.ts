/**
 * FastLZ, the compression php-memcached uses by default, written from the
 * format's definition. A block is a sequence of instructions; the first
 * byte's top 3 bits give the level (0 = level 1, 1 = level 2) and its low 5
 * bits are the first instruction, always a literal run.
 *
 *   000nnnnn + n+1 bytes       literal run of 1..32 bytes
 *   LLLddddd [x] dddddddd      match: length L+2 (L = 7: 9 + x), from d+1 bytes back
 *
 * Level 1 reaches 8192 bytes back and 264 bytes long. Level 2 (what
 * fastlz_compress writes for inputs of 64 KiB and more) chains length bytes
 * while they are 255, and a near distance of 8191 (d = 31·256 + 255) is
 * followed by 16 more bits of distance, for up to 65535 + 8192 back.
 * Only Uint8Array: the same code runs on every runtime.
 */

const MAX_LITERALS = 32;
/** Longest level-1 match: 7 + 2 in the instruction, plus one byte of 255. */
const MAX_MATCH = 264;
const MAX_L1_BACK = 8192;
const L2_NEAR_LIMIT = 8191;
const HASH_BITS = 13;

/** Hash heads of the encoder (input positions + 1; 0 = empty), reused by every call: encoding is synchronous. */
const heads = new Int32Array(1 << HASH_BITS);

/** The FastLZ level-1 block for `input`, which any FastLZ decoder (levels 1 and 2 readers) accepts. */
export function fastlzEncode(input: Uint8Array): Uint8Array {
  const length = input.length;
  // Worst case: every byte a literal, one header per 32 of them.
  const out = new Uint8Array(length + Math.ceil(length / MAX_LITERALS) + 1);
  heads.fill(0);
  let op = 0;
  let anchor = 0;
  let ip = 0;
  let lastBack = 0;
  // A match needs 3 bytes to compare; the last ones are left as literals.
  const last = length - 3;
  while (ip < last) {
    const seq = input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16);
    const slot = Math.imul(seq, 0x9e3779b1) >>> (32 - HASH_BITS);
    const head = heads[slot]! - 1;
    heads[slot] = ip + 1;
    // The last match's distance first: a match cut at 264 bytes, or periodic data, goes on at once.
    let ref = ip - lastBack;
    if (lastBack === 0 || !startsMatch(input, ref, ip)) {
      ref = head;
      if (!startsMatch(input, ref, ip)) {
        ip++;
        continue;
      }
    }
    const back = ip - ref;
    lastBack = back;
    let matched = 3;
    const most = Math.min(MAX_MATCH, length - ip);
    while (matched < most && input[ref + matched] === input[ip + matched]) matched++;
    op = literals(input, anchor, ip, out, op);
    const distance = back - 1;
    const code = matched - 2;
    if (code < 7) {
      out[op++] = (code << 5) | (distance >>> 8);
    } else {
      out[op++] = (7 << 5) | (distance >>> 8);
      out[op++] = code - 7;
    }
    out[op++] = distance & 0xff;
    ip += matched;
    anchor = ip;
    // The position just before the next one: repeats right after a match are found sooner.
    if (ip - 1 < last) {
      const p = ip - 1;
      const s = input[p]! | (input[p + 1]! << 8) | (input[p + 2]! << 16);
      heads[Math.imul(s, 0x9e3779b1) >>> (32 - HASH_BITS)] = p + 1;
    }
  }
  op = literals(input, anchor, length, out, op);
  return out.subarray(0, op);
}

/** Whether the 3 bytes at `ref` (within the level-1 window behind `ip`) equal those at `ip`. */
function startsMatch(input: Uint8Array, ref: number, ip: number): boolean {
  return (
    ref >= 0 &&
    ip - ref <= MAX_L1_BACK &&
    input[ref] === input[ip] &&
    input[ref + 1] === input[ip + 1] &&
    input[ref + 2] === input[ip + 2]
  );
}

/** Writes input[from, to) as literal runs; returns the new output position. */
function literals(input: Uint8Array, from: number, to: number, out: Uint8Array, op: number): number {
  while (from < to) {
    const run = Math.min(MAX_LITERALS, to - from);
    out[op++] = run - 1;
    for (let i = 0; i < run; i++) out[op++] = input[from + i]!;
    from += run;
  }
  return op;
}

/**
 * Decodes a FastLZ block (level 1 or 2) that expands to exactly `size` bytes.
 * Throws a RangeError on a level it does not know, a reference before the
 * start, an instruction cut short, or output of another size: the caller
 * turns that into its own error.
 */
export function fastlzDecode(input: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const end = input.length;
  if (end === 0) {
    if (size === 0) return out;
    throw new RangeError('empty FastLZ block');
  }
  const level = (input[0]! >>> 5) + 1;
  if (level > 2) throw new RangeError(`FastLZ level ${level} is not one this decoder reads`);
  const far = level === 2;
  let ip = 1;
  let op = 0;
  let ctrl = input[0]! & 31;
  for (;;) {
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > end || op + run > size) throw new RangeError('FastLZ literal run past the end');
      for (let i = 0; i < run; i++) out[op++] = input[ip++]!;
    } else {
      let len = (ctrl >>> 5) + 2;
      let back = (ctrl & 31) << 8;
      if (len === 9) {
        if (far) {
          let extra: number;
          do {
            if (ip >= end) throw new RangeError('FastLZ match cut short');
            extra = input[ip++]!;
            len += extra;
          } while (extra === 255);
        } else {
          if (ip >= end) throw new RangeError('FastLZ match cut short');
          len += input[ip++]!;
        }
      }
      if (ip >= end) throw new RangeError('FastLZ match cut short');
      const low = input[ip++]!;
      back += low + 1;
      if (far && low === 255 && back === L2_NEAR_LIMIT + 1) {
        if (ip + 2 > end) throw new RangeError('FastLZ match cut short');
        back = ((input[ip]! << 8) | input[ip + 1]!) + L2_NEAR_LIMIT + 1;
        ip += 2;
      }
      let ref = op - back;
      if (ref < 0) throw new RangeError('FastLZ match before the start');
      if (op + len > size) throw new RangeError('FastLZ match past the end');
      if (back >= len && len > 32) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        // Overlapping (a run): byte by byte, each copied byte is read again.
        for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
      }
    }
    if (ip >= end) break;
    ctrl = input[ip++]!;
  }
  if (op !== size) throw new RangeError(`FastLZ block expands to ${op} bytes, not ${size}`);
  return out;
}
