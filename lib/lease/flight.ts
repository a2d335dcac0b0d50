/**
 * A flight: one key's round trip (and load, if it comes to that) in
 * progress in one process, shared by the concurrent getOrSet calls for the
 * key. PlainFlight is the whole of it on a protocol without leases; the
 * meta protocol's is LeaseFlight (lease-flight.ts).
 */
import { Command, Verb } from '../command.js';
import { Item } from '../item.js';
import type { Encoded } from '../transcode/transcoder.js';
import type { Leases } from './get-or-set.js';
import type { Factory, LeaseSettings } from './options.js';

const utf8 = new TextEncoder();

/** One key's round trip (and load, if it comes to that) in progress in this process. */
export abstract class Flight {
  /**
   * In its group's list: later calls for the key join it. A plain flight is
   * listed from its first request on (false if that was refused); a lease
   * flight only once its first reply was not a hit. False once it lands.
   */
  listed = false;
  factory: Factory<unknown> = noFactory;
  /** The first call's options, checked; read in full only for a load. */
  options: unknown = undefined;

  constructor(
    protected readonly leases: Leases,
    readonly key: string,
  ) {}

  /** Takes the call that starts the flight (its settings checked into `settings`). */
  arm(factory: Factory<unknown>, options: unknown, _settings: LeaseSettings): void {
    this.factory = factory;
    this.options = options;
  }

  /** Sends the flight's first request; resolves to what the caller that started it gets. */
  abstract start(): Promise<Item>;
  /** What a concurrent call for the same key gets. */
  abstract join(): Promise<Item>;

  /** Landed: lets go of everything its callers gave or get. */
  clear(): void {
    this.factory = noFactory;
    this.options = undefined;
  }
}

/**
 * A flight on a group that speaks no leases (binary): get, and on a miss
 * the factory and an add, shared by this process's concurrent calls only.
 * Other processes may load the same key at the same time; add keeps the
 * first value stored.
 */
export class PlainFlight extends Flight {
  /** What every caller of the flight gets. */
  private promise: Promise<Item> | null = null;

  start(): Promise<Item> {
    const op = new Command(Verb.Get);
    op.key = this.key;
    const reply = this.leases.sendCommand(op);
    // Refused before it was sent (a bad key, a closed group): nothing for a later call to join.
    this.listed = !op.settled;
    if (!this.listed) this.clear();
    return (this.promise = reply.then(
      (item) => (item === null ? this.load() : this.land(item as Item)),
      (error) => this.crash(error),
    ));
  }

  join(): Promise<Item> {
    return this.promise!;
  }

  private land(item: Item): Item {
    this.leases.land(this);
    return item;
  }

  private crash(error: unknown): never {
    this.leases.land(this);
    throw error;
  }

  private async load(): Promise<Item> {
    try {
      const settings = this.leases.settings(this);
      const value = await this.factory(this.key);
      const encoded = await this.leases.encode(value, settings);
      const op = new Command(Verb.Add);
      op.key = this.key;
      op.value = encoded.value;
      op.flags = encoded.flags;
      // staleFor means nothing without leases: the value lives `expires`.
      op.expires = settings.storeFor - settings.staleFor;
      await this.leases.sendCommand(op);
      return this.land(loaded(value, encoded, 0, 0));
    } catch (error) {
      return this.crash(error);
    }
  }
}

/**
 * The Item a load resolves to: the bytes and flags stored, the stored CAS (0
 * when not stored), and as its data the factory's own value when a
 * transcoder encoded it (so it is not decoded again).
 */
export function loaded(value: unknown, encoded: Encoded, casHi: number, casLo: number): Item {
  const bytes = encoded.value;
  const item = new Item(typeof bytes === 'string' ? utf8.encode(bytes) : bytes, encoded.flags, casHi, casLo);
  if (encoded.value !== value) item.decoded = value;
  return item;
}

export function setCas(op: Command, item: Item): void {
  const cas = item.cas;
  op.casHi = Number(cas >> 32n);
  op.casLo = Number(cas & 0xffffffffn);
}

export function noop(): void {}

/** A landed flight's factory: never called (a flight is armed with its caller's before it starts). */
function noFactory(): never {
  throw new Error('getOrSet: a landed flight was started without being armed');
}
