/**
 * Encodes meta-protocol requests (and the few classic text commands memcached
 * has no meta form for) into blocks, as RequestWriter does for binary frames:
 * each request line is written in place, numbers as ASCII digits, and
 * committed only once complete (block-writer.ts).
 */
import { ErrorCode, MemcacheError } from '../../errors.js';
import type { Uint64 } from '../../command.js';
import { checkTextAuthCredentials } from '../../net/credentials.js';
import { encodeStringInto, inlineRoom, isOutOfLine, outOfLineCopy, valueTooLarge } from '../block-writer.js';
import { ascii, LineWriter, SPACE } from '../line-writer.js';

/** Room for the flags of a request line besides the key: tokens, numbers of up to 20 digits each. */
const LINE_ROOM = 128;

const MG = ascii('mg ');
const MS = ascii('ms ');
const MD = ascii('md ');
const MA = ascii('ma ');
const GET_FLAGS = ascii(' v f c');
const NOOP = ascii('mn\r\n');
const AUTH = ascii('set memring-auth 0 -1 ');

/** ms modes (the M flag's token). */
export const StoreMode = {
  Set: 0x53, // S
  Add: 0x45, // E
  Replace: 0x52, // R
  Append: 0x41, // A
  Prepend: 0x50, // P
} as const;

export class MetaWriter extends LineWriter {
  /** The store being written asks for its new CAS (ms c): read by storeLine, which may run twice per store. */
  private returnCas = false;

  // ---- requests -------------------------------------------------------------

  /** `mg <key> v f c [T<ttl>] O<tag> [q]`: a get (gat with a TTL; quiet in a getMulti). */
  get(key: string, tag: number, touch: boolean, expires: number, quiet: boolean): void {
    let at = this.open(MG, key, 0);
    at = this.bytes(at, GET_FLAGS);
    if (touch) at = this.uint32Flag(at, 0x54 /* T */, expires);
    at = this.uint32Flag(at, 0x4f /* O */, tag);
    if (quiet) {
      this.block[at++] = SPACE;
      this.block[at++] = 0x71; // q
    }
    this.commit(this.eol(at));
  }

  /**
   * `mg <key> v f c [N<lockFor>] [R<recache>] O<tag>`: getOrSet's get, which
   * may win (W) the right to load the item; with N (lockFor not 0) a miss
   * creates a stub to win.
   */
  lease(key: string, tag: number, lockFor: number, recache: number): void {
    let at = this.open(MG, key, 0);
    at = this.bytes(at, GET_FLAGS);
    if (lockFor !== 0) at = this.uint32Flag(at, 0x4e /* N */, lockFor);
    if (recache !== 0) at = this.uint32Flag(at, 0x52 /* R */, recache);
    at = this.uint32Flag(at, 0x4f /* O */, tag);
    this.commit(this.eol(at));
  }

  /** `mg <key> T<ttl> O<tag>`: a touch (HD, or EN on a miss). */
  touch(key: string, expires: number, tag: number): void {
    let at = this.open(MG, key, 0);
    at = this.uint32Flag(at, 0x54 /* T */, expires);
    at = this.uint32Flag(at, 0x4f /* O */, tag);
    this.commit(this.eol(at));
  }

  /**
   * `ms <key> <datalen> [F<flags> T<ttl>] [C<cas>] M<mode> O<tag> [c]` and the data.
   * Append and prepend keep the stored item's flags and TTL, so theirs are not sent.
   * With `returnCas` the reply carries the stored item's new CAS.
   */
  store(
    mode: number,
    key: string,
    value: Uint8Array | string,
    flags: number,
    expires: number,
    casHi: number,
    casLo: number,
    tag: number,
    returnCas = false,
  ): void {
    this.returnCas = returnCas;
    const room = inlineRoom(value);
    const at = this.open(MS, key, room + 2);
    const b = this.block;
    if (isOutOfLine(value)) {
      const bytes = outOfLineCopy(value, this.maxValueLength);
      const end = this.storeLine(at, bytes.length, mode, flags, expires, casHi, casLo, tag);
      // The line goes out with what precedes it, the value as its own chunk, its \r\n with what follows.
      this.commitOutOfLine(end, bytes);
      this.commit(this.eol(end));
      return;
    }
    let length: number;
    let end: number;
    if (typeof value === 'string') {
      // Written as if ASCII (one byte per unit); written again when UTF-8 is longer (rare).
      length = value.length;
      end = this.storeLine(at, length, mode, flags, expires, casHi, casLo, tag);
      const written = encodeStringInto(value, b, end);
      if (written !== length) {
        length = written;
        end = this.storeLine(at, length, mode, flags, expires, casHi, casLo, tag);
        encodeStringInto(value, b, end);
      }
    } else {
      length = value.length;
      end = this.storeLine(at, length, mode, flags, expires, casHi, casLo, tag);
      b.set(value, end);
    }
    if (length > this.maxValueLength) throw valueTooLarge(length, this.maxValueLength);
    end += length;
    this.commit(this.eol(end));
  }

  /** `md <key> I [T<ttl>] [C<cas>] O<tag>`: marks the item stale (and clears its win) instead of deleting it. */
  invalidate(key: string, staleFor: number, casHi: number, casLo: number, tag: number): void {
    let at = this.open(MD, key, 0);
    const b = this.block;
    b[at] = SPACE;
    b[at + 1] = 0x49; // I
    at += 2;
    // T0 would make the stale item immortal: 0 keeps the item's own TTL.
    if (staleFor !== 0) at = this.uint32Flag(at, 0x54 /* T */, staleFor);
    if (casHi !== 0 || casLo !== 0) at = this.casFlag(at, casHi, casLo);
    at = this.uint32Flag(at, 0x4f /* O */, tag);
    this.commit(this.eol(at));
  }

  /** `md <key> [C<cas>] O<tag>`. */
  delete(key: string, casHi: number, casLo: number, tag: number): void {
    let at = this.open(MD, key, 0);
    if (casHi !== 0 || casLo !== 0) at = this.casFlag(at, casHi, casLo);
    at = this.uint32Flag(at, 0x4f /* O */, tag);
    this.commit(this.eol(at));
  }

  /**
   * `ma <key> M<I|D> D<delta> [N<ttl> J<initial>] v O<tag>`: with `create`, a
   * missing key is created holding `initial` (and the reply is `initial`).
   */
  arithmetic(key: string, decrement: boolean, delta: Uint64, create: boolean, expires: number, initial: Uint64, tag: number): void {
    let at = this.open(MA, key, 0);
    const b = this.block;
    b[at] = SPACE;
    b[at + 1] = 0x4d; // M
    b[at + 2] = decrement ? 0x44 /* D */ : 0x49; /* I */
    at = this.uint64Flag(at + 3, 0x44 /* D */, delta);
    if (create) {
      at = this.uint32Flag(at, 0x4e /* N */, expires);
      at = this.uint64Flag(at, 0x4a /* J */, initial);
    }
    b[at] = SPACE;
    b[at + 1] = 0x76; // v
    at = this.uint32Flag(at + 2, 0x4f /* O */, tag);
    this.commit(this.eol(at));
  }

  /** `mn`: answered by MN once everything before it is answered. */
  noop(): void {
    this.constant(NOOP);
  }

  /**
   * memcached's text authentication (-Y): a `set` whose data is "<user>
   * <password>". Its TTL of -1 means a server without -Y stores the
   * credentials already expired instead of keeping them readable.
   */
  auth(username: string, password: string): void {
    const payload = new TextEncoder().encode(`${username} ${password}`);
    checkTextAuthCredentials(username, password);
    this.reserve(AUTH.length + 14 + payload.length);
    let at = this.bytes(this.end, AUTH);
    at = this.eol(this.uint32(at, payload.length));
    this.block.set(payload, at);
    this.commit(this.eol(at + payload.length));
  }

  // ---- line assembly --------------------------------------------------------

  /** Reserves room for a request line (and `extra` bytes after it), writes `<cm> <key>`, returns the position after the key. */
  private open(command: Uint8Array, key: string, extra: number): number {
    this.checkKeyShape(key);
    this.reserve(3 + key.length * 3 + LINE_ROOM + extra);
    const at = this.end;
    const b = this.block;
    b[at] = command[0]!;
    b[at + 1] = command[1]!;
    b[at + 2] = SPACE;
    return at + 3 + this.writeKey(key, at + 3);
  }

  /** The rest of an ms line after the key, from `at`; returns where the data starts. */
  private storeLine(at: number, length: number, mode: number, flags: number, expires: number, casHi: number, casLo: number, tag: number): number {
    const b = this.block;
    b[at++] = SPACE;
    at = this.uint32(at, length);
    if (mode !== StoreMode.Append && mode !== StoreMode.Prepend) {
      at = this.uint32Flag(at, 0x46 /* F */, flags);
      at = this.uint32Flag(at, 0x54 /* T */, expires);
    }
    if (casHi !== 0 || casLo !== 0) at = this.casFlag(at, casHi, casLo);
    b[at] = SPACE;
    b[at + 1] = 0x4d; // M
    b[at + 2] = mode;
    at = this.uint32Flag(at + 3, 0x4f /* O */, tag);
    if (this.returnCas) {
      b[at] = SPACE;
      b[at + 1] = 0x63; // c
      at += 2;
    }
    return this.eol(at);
  }

  /** ` <flag><digits>` */
  private uint32Flag(at: number, flag: number, value: number): number {
    this.block[at] = SPACE;
    this.block[at + 1] = flag;
    return this.uint32(at + 2, value);
  }

  /** ` C<cas>` from its two 32-bit halves. */
  private casFlag(at: number, hi: number, lo: number): number {
    this.block[at] = SPACE;
    this.block[at + 1] = 0x43; // C
    return this.cas(at + 2, hi, lo);
  }

  /** ` <flag><digits>` of a counter operand below 2^64. */
  private uint64Flag(at: number, flag: number, value: Uint64): number {
    this.block[at] = SPACE;
    this.block[at + 1] = flag;
    return this.uint64(at + 2, value);
  }
}
