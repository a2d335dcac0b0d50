const utf8 = new TextDecoder();
const TWO_32 = 4294967296;
/** Node's (and Bun's and Deno's) key for a custom `util.inspect`; registered, so no node: import is needed. */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Bytes of the value that inspection and JSON show: enough to recognise it, never a whole large value. */
const PREVIEW_BYTES = 32;

/** What `toJSON()` returns: the item described, its value only previewed. */
export interface ItemJSON {
  /** The value's length in bytes. */
  size: number;
  flags: number;
  /** The CAS token in decimal (JSON has no bigint). */
  cas: string;
  /** The value's first 32 bytes as UTF-8, followed by `…` when there are more. */
  preview: string;
}

/**
 * A value read from memcached: its bytes, the flags stored with it and its
 * CAS token, and `data`, the value the group's transcoder decoded (the bytes
 * themselves with the default transcoder).
 */
export class Item<T = Uint8Array> {
  /**
   * What the group's transcoder made of the bytes; absent with the default one.
   * @internal Set by Group as the call settles.
   */
  declare decoded?: unknown;

  constructor(
    /** The stored bytes. */
    readonly value: Uint8Array,
    /** The 32-bit flags stored with the value. */
    readonly flags: number,
    private readonly casHi: number,
    private readonly casLo: number,
  ) {}

  /** The item's CAS token, for `Group.cas()` and conditional deletes. */
  get cas(): bigint {
    return this.casHi < 0x200000
      ? BigInt(this.casHi * TWO_32 + this.casLo)
      : (BigInt(this.casHi) << 32n) | BigInt(this.casLo);
  }

  /**
   * The value as the group's transcoder decoded it: a string, number, object...
   * with 'php', 'python' or 'json'; the stored bytes (`value`) with the default.
   */
  get data(): T {
    return (this.decoded === undefined ? this.value : this.decoded) as T;
  }

  /** The stored bytes decoded as UTF-8 (whatever the transcoder: compressed bytes stay compressed here). */
  get text(): string {
    return utf8.decode(this.value);
  }

  toString(): string {
    return this.text;
  }

  /** `JSON.stringify(item)`: size, flags, CAS (as a string) and a preview of the value, never all of it. */
  toJSON(): ItemJSON {
    return { size: this.value.length, flags: this.flags, cas: this.cas.toString(), preview: preview(this.value) };
  }

  static {
    // util.inspect / console.log: `Item { size: 11, flags: 0, cas: 42n, preview: 'hello world' }`
    // instead of the private CAS halves and every byte of the value. Defined here, not as a
    // method, so the symbol stays out of the published declaration.
    Object.defineProperty(this.prototype, INSPECT, { value: inspectItem, writable: true, configurable: true });
  }
}

type Inspect = (value: unknown, options: { depth?: number | null }) => string;

function inspectItem(this: Item, depth: number, options: { depth?: number | null }, inspect?: Inspect): unknown {
  if (depth < 0) return '[Item]';
  const shown = { size: this.value.length, flags: this.flags, cas: this.cas, preview: preview(this.value) };
  // Runtimes that pass no inspect function print the plain object.
  if (inspect === undefined) return shown;
  return `Item ${inspect(shown, { ...options, depth: options.depth == null ? null : options.depth - 1 })}`;
}

/** The value's first PREVIEW_BYTES bytes as text, cut before a character rather than through it. */
function preview(value: Uint8Array): string {
  if (value.length <= PREVIEW_BYTES) return utf8.decode(value);
  let end = PREVIEW_BYTES;
  // Back over at most 3 UTF-8 continuation bytes (binary values may have more).
  for (let i = 0; i < 3 && (value[end]! & 0xc0) === 0x80; i++) end--;
  return `${utf8.decode(value.subarray(0, end))}…`;
}
