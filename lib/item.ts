const utf8 = new TextDecoder();
const TWO_32 = 4294967296;

/** A value read from memcached: its bytes, the flags stored with it and its CAS token. */
export class Item {
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

  /** The value decoded as UTF-8. */
  get text(): string {
    return utf8.decode(this.value);
  }

  toString(): string {
    return this.text;
  }
}
