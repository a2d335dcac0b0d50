/**
 * A flight: the load a getOrSet call's key needs, shared by the calls in
 * this process that come for the key while it loads.
 *
 * Every call sends its own first read, as a get does (first-read.ts): on a
 * hit that is all, and no flight is made. A reply that is not a hit makes
 * one, which lists itself in its group's loading list (Leases.claim), so
 * that later calls for the key, and calls whose own read crossed it, join
 * its load instead of starting another.
 *
 * PlainFlight is the whole of it on a protocol without leases (binary,
 * text); the meta protocol's is LeaseFlight (lease-flight.ts).
 */
import { Command, Verb } from '../command.js';
import { Item } from '../item.js';
import type { Encoded } from '../transcode/transcoder.js';
import type { Leases } from './get-or-set.js';
import type { Factory, LeaseSettings } from './options.js';

const utf8 = new TextEncoder();

export abstract class Flight {
  /** In its group's loading list: later calls for the key join it. Set by Leases.claim, cleared when it lands. */
  listed = false;
  factory: Factory<unknown> = noFactory;
  /** The first call's options, checked; read in full only for a load. */
  options: unknown = undefined;
  /** Made only when a call joins, or a stale value is served meanwhile. */
  protected slow: SlowPath | null = null;

  constructor(
    protected readonly leases: Leases,
    readonly key: string,
  ) {}

  /** Takes the call that starts the flight (its settings checked into `settings`). */
  arm(factory: Factory<unknown>, options: unknown, _settings: LeaseSettings): void {
    this.factory = factory;
    this.options = options;
  }

  /** What a first read that was not a hit (a miss, a lease's W, X or Z) means: a load, a wait, a value served meanwhile. */
  abstract decide(reply: unknown): Item | Promise<Item>;

  /** What a call for the key gets while the flight is listed: a stale value at once, or what the flight ends with. */
  join(): Promise<Item> {
    const slow = (this.slow ??= new SlowPath());
    if (slow.stale !== null) return Promise.resolve(slow.stale);
    return (slow.shared ??= new Promise<Item>((resolve, reject) => {
      slow.resolveShared = resolve;
      slow.rejectShared = reject;
    }));
  }

  /** Ends the flight with `item`: joiners first, then off the list. */
  protected land(item: Item): Item {
    this.answer(item);
    this.leases.land(this);
    return item;
  }

  protected crash(error: unknown): never {
    this.forget(error);
    throw error;
  }

  /** The flight failed: off the list, and the joiners told (unless a stale value answered them). */
  private forget(error: unknown): void {
    const slow = this.slow;
    if (slow !== null && !slow.answered) {
      slow.answered = true;
      slow.rejectShared(error);
    }
    this.leases.land(this);
  }

  /** Joiners get `item` (once: a stale value may answer them before the load ends). */
  protected answer(item: Item): void {
    const slow = this.slow;
    if (slow === null || slow.answered) return;
    slow.answered = true;
    slow.resolveShared(item);
  }

  /** Landed: lets go of everything its callers gave or get. */
  clear(): void {
    this.factory = noFactory;
    this.options = undefined;
    this.slow = null;
  }
}

/**
 * A flight on a group that speaks no leases (binary, text): get, and on a
 * miss the factory and an add, shared by this process's calls for the key
 * (one load per key per process at a time). Other processes may load the
 * same key at the same time; add keeps the first value stored.
 */
export class PlainFlight extends Flight {
  /** A miss (the only reply a get has besides a hit): load, or join the load of a call whose get crossed this one. */
  decide(): Promise<Item> {
    const listed = this.leases.claim(this, false);
    return listed === this ? this.load() : listed.join();
  }

  private async load(): Promise<Item> {
    try {
      const settings = this.leases.settings(this.factory, this.options);
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

/** A flight's state beyond a plain hit: its joiners, and the stale value they get during a reload (meta). */
export class SlowPath {
  shared: Promise<Item> | null = null;
  resolveShared: (item: Item | Promise<Item>) => void = noop;
  rejectShared: (error: unknown) => void = noop;
  /** Set once the joiners have their answer. */
  answered = false;
  /** While the flight reloads over a value still worth serving: what a joiner gets at once. */
  stale: Item | null = null;
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
