/**
 * A reader of PHP's serialize() format (php-memcached's flag 4, Debian's
 * default memcached.serializer): null, booleans, integers (a bigint beyond
 * 2^53), doubles, strings, arrays (a JS array when the keys are 0..n-1 in
 * order, else a plain object) and objects (a plain object of their
 * properties; the class name is dropped, protected and private names lose
 * their \0-marked prefix). References, custom-serialized objects and enums
 * are refused. A cursor over the bytes: strings are sliced by their byte
 * length, never by searching for a quote.
 */
import type { PhpValue } from './php-value.js';
import { integer, utf8, utf8OrNull } from './text.js';

const MAX_DEPTH = 256;

const COLON = 0x3a;
const SEMI = 0x3b;
const QUOTE = 0x22;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** Parses one serialized value, which must fill `bytes`. Throws an Error saying where it is malformed. */
export function unserializePhp(bytes: Uint8Array): PhpValue {
  const reader = new Reader(bytes);
  const value = reader.value(0);
  if (reader.at !== bytes.length) reader.fail('trailing bytes after the value');
  return value;
}

class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  fail(why: string): never {
    throw new Error(`PHP serialize data malformed at byte ${this.at}: ${why}`);
  }

  value(depth: number): PhpValue {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH}`);
    const tag = this.bytes[this.at];
    switch (tag) {
      case 0x4e: // N;
        this.at++;
        this.expect(SEMI);
        return null;
      case 0x62: { // b:0; b:1;
        this.at++;
        this.expect(COLON);
        const flag = this.until(SEMI);
        if (flag !== '0' && flag !== '1') this.fail('boolean other than 0 or 1');
        return flag === '1';
      }
      case 0x69: { // i:<int>;
        this.at++;
        this.expect(COLON);
        const n = integer(this.until(SEMI));
        if (n === null) this.fail('integer expected');
        return n;
      }
      case 0x64: { // d:<double>;
        this.at++;
        this.expect(COLON);
        const d = double(this.until(SEMI));
        if (d === null) this.fail('double expected');
        return d;
      }
      case 0x73: { // s:<len>:"<bytes>";
        const raw = this.string();
        this.expect(SEMI);
        return utf8OrNull(raw) ?? raw;
      }
      case 0x61: { // a:<n>:{...}
        this.at++;
        this.expect(COLON);
        return this.members(this.count(), depth, false);
      }
      case 0x4f: { // O:<len>:"<class>":<n>:{...}
        this.string();
        this.expect(COLON);
        return this.members(this.count(), depth, true);
      }
      case 0x72:
      case 0x52:
        return this.fail('references (r:/R:) are not read');
      case 0x43:
        return this.fail('custom-serialized objects (C:) are not read');
      case 0x45:
        return this.fail('enums (E:) are not read');
      default:
        return this.fail(tag === undefined ? 'value expected, end of data' : `unknown type ${JSON.stringify(String.fromCharCode(tag))}`);
    }
  }

  /** `<n>:{` then n key/value pairs then `}`. */
  private members(count: number, depth: number, object: boolean): PhpValue {
    this.expect(OPEN);
    const list: PhpValue[] = [];
    let record: Record<string, PhpValue> | null = object ? {} : null;
    for (let i = 0; i < count; i++) {
      const key = this.key(object);
      const value = this.value(depth + 1);
      if (record === null && key === i) {
        list.push(value);
        continue;
      }
      if (record === null) {
        // Not a list after all: what was read so far becomes the object's first members.
        record = {};
        for (let j = 0; j < list.length; j++) record[j] = list[j]!;
      }
      // defineProperty for "__proto__", so it stays a plain member rather than setting the prototype.
      if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
      else record[key] = value;
    }
    this.expect(CLOSE);
    return record ?? list;
  }

  private key(property: boolean): string | number {
    const tag = this.bytes[this.at];
    if (tag === 0x69) {
      this.at++;
      this.expect(COLON);
      const n = integer(this.until(SEMI));
      if (n === null) this.fail('integer key expected');
      return typeof n === 'bigint' ? n.toString() : n;
    }
    if (tag !== 0x73) this.fail('array key must be an integer or a string');
    let name = utf8(this.string());
    this.expect(SEMI);
    // Protected "\0*\0name", private "\0Class\0name": only the name is kept.
    if (property && name.charCodeAt(0) === 0) name = name.slice(name.indexOf('\0', 1) + 1);
    return name;
  }

  /** `X:<len>:"<bytes>"` (the tag at the cursor), returning the bytes. */
  private string(): Uint8Array {
    this.at++;
    this.expect(COLON);
    const length = this.count();
    this.expect(QUOTE);
    const start = this.at;
    if (start + length > this.bytes.length) this.fail('string longer than the data');
    this.at += length;
    this.expect(QUOTE);
    return this.bytes.subarray(start, start + length);
  }

  /** `<digits>:` */
  private count(): number {
    const text = this.until(COLON);
    if (!/^[0-9]{1,10}$/.test(text)) this.fail('length expected');
    return Number(text);
  }

  private until(end: number): string {
    const start = this.at;
    const stop = this.bytes.indexOf(end, start);
    if (stop < 0) this.fail(`"${String.fromCharCode(end)}" expected`);
    this.at = stop + 1;
    return utf8(this.bytes.subarray(start, stop));
  }

  private expect(byte: number): void {
    if (this.bytes[this.at] !== byte) this.fail(`"${String.fromCharCode(byte)}" expected`);
    this.at++;
  }
}

/** A serialized double, or null when the text is not one. */
function double(text: string): number | null {
  if (text === 'INF') return Infinity;
  if (text === '-INF') return -Infinity;
  if (text === 'NAN') return NaN;
  const value = Number(text);
  return text === '' || Number.isNaN(value) ? null : value;
}
