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
  /** While the flight reloads over a value still worth serving (meta): what a joiner gets at once. */
  protected stale: Item | null = null;
  /** What the joiners share, made when the first one joins. */
  private joined: Promise<Item> | null = null;
  private resolveJoined: (item: Item) => void = noop;
  private rejectJoined: (error: unknown) => void = noop;
  /** Set once the joiners have their answer (a stale value may give it before the load ends). */
  private answered = false;

  constructor(
    protected readonly leases: Leases,
    readonly key: string,
    /** The first call's factory: a call that joins shares it. */
    protected readonly factory: Factory<unknown>,
    /** The first call's options, read. */
    protected readonly settings: LeaseSettings,
  ) {}

  /** What a first read that was not a hit (a miss, a lease's W, X or Z) means: a load, a wait, a value served meanwhile. */
  abstract decide(reply: unknown): Item | Promise<Item>;

  /** What a call for the key gets while the flight is listed: a stale value at once, or what the flight ends with. */
  join(): Promise<Item> {
    if (this.stale !== null) return Promise.resolve(this.stale);
    return (this.joined ??= new Promise<Item>((resolve, reject) => {
      this.resolveJoined = resolve;
      this.rejectJoined = reject;
    }));
  }

  /** Ends the flight with `item`: joiners first, then off the list. */
  protected land(item: Item): Item {
    this.answer(item);
    this.leases.land(this);
    return item;
  }

  /** The flight failed: the joiners told (unless a stale value answered them), off the list, and `error` thrown on. */
  protected crash(error: unknown): never {
    if (!this.answered) {
      this.answered = true;
      this.rejectJoined(error);
    }
    this.leases.land(this);
    throw error;
  }

  /** Joiners get `item`, once. */
  protected answer(item: Item): void {
    if (this.answered) return;
    this.answered = true;
    this.resolveJoined(item);
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
      const settings = this.settings;
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
