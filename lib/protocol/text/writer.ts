/**
 * Encodes memcached's classic text protocol requests into blocks, as the meta
 * writer does: each request line written in place, numbers as ASCII digits,
 * committed only once complete (block-writer.ts). No request carries
 * `noreply`: every command gets its reply, matched by order.
 */
import type { Uint64 } from '../../command.js';
import { encodeStringInto, inlineRoom, isOutOfLine, outOfLineCopy, valueTooLarge } from '../block-writer.js';
import { ascii, LineWriter, SPACE } from '../line-writer.js';

/** Room for the numbers of a request line besides its key: four of up to 20 digits and their spaces. */
const LINE_ROOM = 96;

const GETS = ascii('gets ');
const GATS = ascii('gats ');
const TOUCH = ascii('touch ');
const DELETE = ascii('delete ');
const INCR = ascii('incr ');
const DECR = ascii('decr ');
const CAS = ascii('cas ');

/** The storage commands, by the word that starts their line. */
export const StoreCommand = {
  Set: ascii('set '),
  Add: ascii('add '),
  Replace: ascii('replace '),
  Append: ascii('append '),
  Prepend: ascii('prepend '),
  Cas: CAS,
} as const;

export class TextWriter extends LineWriter {
  /** `gets <key>`: a get whose VALUE carries the CAS unique. */
  get(key: string): void {
    const at = this.open(GETS, key, 0);
    this.commit(this.eol(at));
  }

  /** `gets <key> <key> ...`: one line for a server's keys (all checked before anything is committed). */
  getMany(keys: readonly string[]): void {
    let room = GETS.length + 2;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      this.checkKeyShape(key);
      room += key.length * 3 + 1;
    }
    this.reserve(room);
    let at = this.bytes(this.end, GETS);
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) this.block[at++] = SPACE;
      at += this.writeKey(keys[i]!, at);
    }
    this.commit(this.eol(at));
  }

  /** `gats <exptime> <key>`: get and touch, with the CAS unique. */
  getAndTouch(key: string, expires: number): void {
    this.checkKeyShape(key);
    this.reserve(GATS.length + 12 + key.length * 3 + 2);
    let at = this.bytes(this.end, GATS);
    at = this.uint32(at, expires);
    this.block[at++] = SPACE;
    at += this.writeKey(key, at);
    this.commit(this.eol(at));
  }

  /** `touch <key> <exptime>`. */
  touch(key: string, expires: number): void {
    let at = this.open(TOUCH, key, 0);
    this.block[at++] = SPACE;
    this.commit(this.eol(this.uint32(at, expires)));
  }

  /** `delete <key>`. */
  delete(key: string): void {
    this.commit(this.eol(this.open(DELETE, key, 0)));
  }

  /** `incr <key> <delta>` or `decr <key> <delta>`. */
  arithmetic(key: string, decrement: boolean, delta: Uint64): void {
    let at = this.open(decrement ? DECR : INCR, key, 0);
    this.block[at++] = SPACE;
    this.commit(this.eol(this.uint64(at, delta)));
  }

  /**
   * `<command> <key> <flags> <exptime> <bytes> [<cas unique>]` and the data.
   * `cas` is written only for the cas command (casHi/casLo are ignored otherwise).
   */
  store(command: Uint8Array, key: string, value: Uint8Array | string, flags: number, expires: number, casHi: number, casLo: number): void {
    const room = inlineRoom(value);
    const at = this.open(command, key, room + 2);
    const b = this.block;
    const withCas = command === CAS;
    if (isOutOfLine(value)) {
      const bytes = outOfLineCopy(value, this.maxValueLength);
      const end = this.storeLine(at, flags, expires, bytes.length, withCas, casHi, casLo);
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
      end = this.storeLine(at, flags, expires, length, withCas, casHi, casLo);
      const written = encodeStringInto(value, b, end);
      if (written !== length) {
        length = written;
        end = this.storeLine(at, flags, expires, length, withCas, casHi, casLo);
        encodeStringInto(value, b, end);
      }
    } else {
      length = value.length;
      end = this.storeLine(at, flags, expires, length, withCas, casHi, casLo);
      b.set(value, end);
    }
    if (length > this.maxValueLength) throw valueTooLarge(length, this.maxValueLength);
    end += length;
    this.commit(this.eol(end));
  }

  // ---- line assembly --------------------------------------------------------

  /** Reserves room for a request line (and `extra` bytes after it), writes `<command><key>`, returns the position after the key. */
  private open(command: Uint8Array, key: string, extra: number): number {
    this.checkKeyShape(key);
    this.reserve(command.length + key.length * 3 + LINE_ROOM + extra);
    const at = this.bytes(this.end, command);
    return at + this.writeKey(key, at);
  }

  /** ` <flags> <exptime> <bytes> [<cas>]\r\n` after the key; returns where the data starts. */
  private storeLine(at: number, flags: number, expires: number, length: number, withCas: boolean, casHi: number, casLo: number): number {
    const b = this.block;
    b[at++] = SPACE;
    at = this.uint32(at, flags);
    b[at++] = SPACE;
    at = this.uint32(at, expires);
    b[at++] = SPACE;
    at = this.uint32(at, length);
    if (withCas) {
      b[at++] = SPACE;
      at = this.cas(at, casHi, casLo);
    }
    return this.eol(at);
  }
}
