/**
 * getOrSet and invalidate: cache-aside that loads each missing (or stale)
 * value once, however many callers want it at the same time.
 *
 * In one process, concurrent calls for a key share one flight: one round
 * trip and at most one factory call. Across processes (meta only) the server
 * decides who loads: an mg with N creates an empty stub on a miss and tells
 * exactly one client it won (W); the others see Z and wait, or get a stale
 * value (X) at once. The winner stores with ms C<the stub's CAS>, so a load
 * that took too long cannot overwrite what a later winner stored.
 */
import { Command, Verb, promiseOf } from '../command.js';
import { ErrorCode, MemcacheError } from '../errors.js';
import { Item } from '../item.js';
import { checkKey } from '../key.js';
import type { Value } from '../group.js';
import { LeaseReply } from '../protocol/meta/lease-reply.js';
import { decodedItem, encodeValue } from '../transcode/apply.js';
import type { Encoded, Transcoder } from '../transcode/transcoder.js';
import { readGetOrSetOptions, readInvalidateOptions, type Factory, type LeaseSettings } from './options.js';

/** Sends a command the way Group sends its own (closed check, routing, tracing); resolves to its reply. */
export type Send = (op: Command) => Promise<unknown>;

/** First and last pause between a waiting caller's polls, in ms. */
const FIRST_POLL = 5;
const LAST_POLL = 50;

const utf8 = new TextEncoder();

function newSettings(): LeaseSettings {
  return { storeFor: 0, staleFor: 0, lockFor: 0, flags: 0, wait: 0, signal: undefined };
}

/** Where a call's options are checked and read: copied into a flight only when it needs them. */
const checked = newSettings();

/** Entries in the flight list past which the landed ones are dropped. */
const COMPACT_AT = 8192;

/** One per Group: the flights in progress, by key. */
export class Leases {
  /**
   * Flights by key. A flight that landed stays (holding nothing of its last
   * callers) until a new call for its key arms it again, and once there are
   * COMPACT_AT entries the list is rebuilt with the flights in progress only:
   * deleting entry by entry makes the Map rehash over and over, and what its
   * tables hold outlives the young generation (measured: ten times the full
   * collections of a plain get), and a lookup plus a set per call cost more
   * than the rest of a hit.
   */
  private flights = new Map<string, Flight>();
  /** The list's size that triggers the next compaction: twice what the last one kept, so it stays amortized O(1). */
  private compactAt = COMPACT_AT;

  constructor(
    private readonly send: Send,
    /** Whether the group speaks meta: leases across processes, invalidate. */
    private readonly meta: boolean,
    /** The group's timeout: how long a caller waits for another's load by default. */
    private readonly timeout: number,
    /** The group's transcoder (null: raw bytes): a load is stored encoded, a hit's Item decoded. */
    readonly transcoder: Transcoder<any, any> | null,
  ) {}

  getOrSet(key: string, factory: Factory<unknown>, options: unknown): Promise<Item> {
    try {
      readGetOrSetOptions(factory, options, this.timeout, checked);
      if (this.transcoder !== null && (options as { flags?: unknown }).flags !== undefined) {
        throw new MemcacheError(ErrorCode.BAD_ARGUMENT, "flags cannot be given with a transcoder: it sets them (use transcoder 'raw' for your own)");
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = checked.signal;
    checked.signal = undefined;
    if (signal?.aborted === true) return abortable(null, signal);
    let promise: Promise<Item>;
    let flight = this.flights.get(key);
    if (flight !== undefined && flight.listed) {
      // A joining call shares the first call's factory and options (checked all the same).
      promise = flight.join();
    } else {
      // A lease flight that landed is armed again for this call: a key asked for again costs one lookup.
      const fresh = flight === undefined || !this.meta;
      if (fresh) flight = this.meta ? new LeaseFlight(this, key) : new PlainFlight(this, key);
      flight!.arm(factory, options, checked);
      // The flight runs for everyone who joins it: no one caller's signal stops it. Its key is
      // checked by the codec as the first request is written: a refused one is not listed.
      promise = flight!.start();
      if (fresh && flight!.listed) {
        this.flights.set(key, flight!);
        if (this.flights.size >= this.compactAt) this.compact();
      }
    }
    // Decoded where the call settles, as Group.get does: a value the transcoder cannot read rejects the calls that read it.
    if (this.transcoder !== null) promise = decodedOnce(promise, this.transcoder, key);
    return signal === undefined ? promise : abortable(promise, signal);
  }

  /** Marks the item stale (md I T<staleFor>); false when there is no such item. */
  invalidate(key: string, options: unknown): Promise<boolean> {
    let staleFor: number;
    let signal: AbortSignal | undefined;
    try {
      ({ staleFor, signal } = readInvalidateOptions(options));
      checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.meta) {
      return Promise.reject(
        new MemcacheError(ErrorCode.UNSUPPORTED, "invalidate needs protocol 'meta' (stale items are memcached meta commands' md I): use delete"),
      );
    }
    const op = new Command(Verb.Invalidate);
    op.key = key;
    op.expires = staleFor;
    const promise = this.send(op) as Promise<boolean>;
    return signal === undefined ? promise : abortable(promise, signal);
  }

  /** @internal */
  sendCommand(op: Command): Promise<unknown> {
    return this.send(op);
  }

  /** @internal The flight is over: later calls start a new one. */
  land(flight: Flight): void {
    if (!flight.listed) return;
    flight.listed = false;
    flight.clear();
  }

  /** A new list holding only the flights in progress (at most as many landed ones as in progress, or COMPACT_AT, are kept). */
  private compact(): void {
    const live = new Map<string, Flight>();
    for (const [key, flight] of this.flights) if (flight.listed) live.set(key, flight);
    this.flights = live;
    this.compactAt = Math.max(COMPACT_AT, live.size * 2);
  }

  /** @internal A loaded value as it is stored: through the group's transcoder, or as given with the call's flags. */
  encode(value: unknown, settings: LeaseSettings): Encoded | Promise<Encoded> {
    if (this.transcoder !== null) return encodeValue(this.transcoder, value, undefined);
    return { value: value as Value, flags: settings.flags };
  }

  /** @internal The settings of the call that started a flight, read again when its load needs them all. */
  settings(flight: Flight): LeaseSettings {
    const settings = newSettings();
    readGetOrSetOptions(flight.factory, flight.options, this.timeout, settings);
    settings.signal = undefined;
    return settings;
  }
}

/** One key's round trip (and load, if it comes to that) in progress in this process. */
abstract class Flight {
  /** In progress: later calls for the key join it. False once it lands, or when its first request was refused. */
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
class PlainFlight extends Flight {
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
 * A flight on a meta group: the lease decides who loads across every client
 * of the servers. The caller that started the flight loads when the server
 * says it won; callers that join it get a stale value at once when there is
 * one, else what the flight ends with.
 *
 * The first lease's promise is the starting caller's promise: its command
 * settles through the flight (leaseReplied/leaseFailed) rather than through
 * that promise's own functions, so a hit costs what a get costs plus this
 * small object and the list entry: no then(), no closure.
 */
class LeaseFlight extends Flight {
  private lockFor = 0;
  private staleFor = 0;
  /** The starting caller's promise's own settle functions, taken over from the first lease command. */
  private resolveOwner: (item: Item | Promise<Item>) => void = noop;
  private rejectOwner: (error: Error) => void = noop;
  /** Made only when a call joins or the reply is not a plain hit. */
  private slow: SlowPath | null = null;

  override arm(factory: Factory<unknown>, options: unknown, settings: LeaseSettings): void {
    super.arm(factory, options, settings);
    this.lockFor = settings.lockFor;
    this.staleFor = settings.staleFor;
  }

  override clear(): void {
    super.clear();
    this.resolveOwner = noop;
    this.rejectOwner = noop;
    this.slow = null;
  }

  start(): Promise<Item> {
    const op = this.leaseCommand();
    const promise = this.leases.sendCommand(op) as Promise<Item>;
    if (op.settled) {
      // Refused before it was sent (a bad key, a closed group): that is the answer.
      this.listed = false;
      this.clear();
      return promise;
    }
    this.listed = true;
    this.resolveOwner = op.resolve;
    this.rejectOwner = op.reject;
    op.result = this;
    op.resolve = leaseReplied;
    op.reject = leaseFailed;
    return promise;
  }

  join(): Promise<Item> {
    const slow = (this.slow ??= new SlowPath());
    if (slow.stale !== null) return Promise.resolve(slow.stale);
    return (slow.shared ??= new Promise<Item>((resolve, reject) => {
      slow.resolveShared = resolve;
      slow.rejectShared = reject;
    }));
  }

  /** The first lease's reply (called as its command's resolve). */
  replied(reply: unknown): void {
    // Taken first: landing clears them.
    const resolve = this.resolveOwner;
    if (reply instanceof Item) {
      this.land(reply);
      resolve(reply);
      return;
    }
    if (reply !== null && !(reply instanceof LeaseReply)) {
      // A failure told with the caller's stack: Command.fail resolves with a promise that rejects (caller-stack.ts).
      const slow = this.slow;
      if (slow !== null && !slow.answered) {
        slow.answered = true;
        slow.resolveShared(reply as Promise<Item>);
      }
      this.leases.land(this);
      resolve(reply as Promise<Item>);
      return;
    }
    // Anything else ends later: the starting caller's promise follows the one the decision makes.
    resolve(this.decide(reply));
  }

  /** The first lease failed (called as its command's reject). */
  failed(error: Error): void {
    const reject = this.rejectOwner;
    this.forget(error);
    reject(error);
  }

  private land(item: Item): Item {
    // Joiners first: landing clears what the flight holds.
    this.answer(item);
    this.leases.land(this);
    return item;
  }

  private crash(error: unknown): never {
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
  private answer(item: Item): void {
    const slow = this.slow;
    if (slow === null || slow.answered) return;
    slow.answered = true;
    slow.resolveShared(item);
  }

  /** `mg <key> v f c N<lockFor> [R<staleFor>]`. */
  private leaseCommand(): Command {
    const op = new Command(Verb.Lease);
    op.key = this.key;
    op.expires = this.lockFor;
    op.recache = this.staleFor;
    return op;
  }

  /** What a lease reply that is not a plain hit means for this flight: done, load, or wait. */
  private decide(reply: unknown): Item | Promise<Item> {
    if (reply instanceof Item) return this.land(reply);
    // EN: the server could not make the stub (out of memory); load, and store only where nothing is.
    if (reply === null) return this.load(null);
    const lease = reply as LeaseReply;
    if (lease.won) return this.load(lease);
    // Another client loads. A value (stale, or within staleFor) is served meanwhile; an empty item is its stub.
    if (lease.item.value.length > 0) return this.land(lease.item);
    return this.waitForLoad();
  }

  /** This client won: load, store over the lease's item only, release the win if anything fails. */
  private async load(lease: LeaseReply | null): Promise<Item> {
    if (lease !== null && lease.item.value.length > 0) {
      // Joiners, present and to come, get the value being replaced rather than wait for the load.
      const slow = (this.slow ??= new SlowPath());
      slow.stale = lease.item;
      this.answer(lease.item);
    }
    try {
      let settings: LeaseSettings;
      let value: unknown;
      let encoded: Encoded;
      try {
        settings = this.leases.settings(this);
        value = await this.factory(this.key);
        encoded = await this.leases.encode(value, settings);
      } catch (error) {
        await this.release(lease);
        throw error;
      }
      const op = new Command(Verb.LeaseStore);
      op.key = this.key;
      op.value = encoded.value;
      op.flags = encoded.flags;
      op.expires = settings.storeFor;
      if (lease !== null) setCas(op, lease.item);
      let stored: boolean;
      try {
        stored = (await this.leases.sendCommand(op)) as boolean;
      } catch (error) {
        // A value the codec refused, a server that failed: nothing was stored, so the win is released.
        await this.release(lease);
        throw error;
      }
      // Not stored: a newer value is there (another winner, after this one's lockFor ran out, or an
      // invalidate during the load). It is not overwritten; this caller still gets what it loaded.
      return this.land(stored ? loaded(value, encoded, op.casHi, op.casLo) : loaded(value, encoded, 0, 0));
    } catch (error) {
      return this.crash(error);
    }
  }

  /**
   * Gives up a win so the next caller wins at once instead of after lockFor:
   * the empty stub is deleted, a stale or expiring value marked stale again
   * (which clears its win), each only if its CAS is still the lease's (so
   * newer data is never touched). Best effort: if it fails, the stub expires.
   */
  private async release(lease: LeaseReply | null): Promise<void> {
    if (lease === null) return;
    const isStub = lease.item.value.length === 0 && !lease.stale;
    const op = new Command(isStub ? Verb.Delete : Verb.Invalidate);
    op.key = this.key;
    setCas(op, lease.item);
    try {
      await this.leases.sendCommand(op);
    } catch {
      // The caller gets the load's own error; the stub's TTL (lockFor) bounds the damage.
    }
  }

  /** Polls until another client's load is stored, the win comes here, or the call's timeout runs out. */
  private async waitForLoad(): Promise<Item> {
    try {
      const wait = this.leases.settings(this).wait;
      const deadline = Date.now() + wait;
      for (let pause = FIRST_POLL; ; pause = Math.min(pause * 2, LAST_POLL)) {
        if (Date.now() + pause > deadline) {
          throw new MemcacheError(
            ErrorCode.TIMEOUT,
            `getOrSet waited ${wait} ms for another client to load the value (raise its timeout, up to lockFor)`,
          );
        }
        await sleep(pause);
        const reply = await this.leases.sendCommand(this.leaseCommand());
        if (reply instanceof Item) return this.land(reply);
        if (reply === null) return this.load(null);
        const lease = reply as LeaseReply;
        if (lease.won) return this.load(lease);
        if (lease.item.value.length > 0) return this.land(lease.item);
      }
    } catch (error) {
      return this.crash(error);
    }
  }
}

/** A lease flight's state beyond a plain hit: its joiners, and the stale value they get during a reload. */
class SlowPath {
  shared: Promise<Item> | null = null;
  resolveShared: (item: Item | Promise<Item>) => void = noop;
  rejectShared: (error: unknown) => void = noop;
  /** Set once the joiners have their answer. */
  answered = false;
  /** While the flight reloads over a value still worth serving: what a joiner gets at once. */
  stale: Item | null = null;
}

/** The first lease command's resolve: `this` is the command, its `result` the flight (the meta codec leaves a lease's result alone). */
function leaseReplied(this: Command, reply: unknown): void {
  (this.result as LeaseFlight).replied(reply);
}

/** The first lease command's reject. */
function leaseFailed(this: Command, error: Error): void {
  (this.result as LeaseFlight).failed(error);
}

/**
 * The Item a load resolves to: the bytes and flags stored, the stored CAS (0
 * when not stored), and as its data the factory's own value when a
 * transcoder encoded it (so it is not decoded again).
 */
function loaded(value: unknown, encoded: Encoded, casHi: number, casLo: number): Item {
  const bytes = encoded.value;
  const item = new Item(typeof bytes === 'string' ? utf8.encode(bytes) : bytes, encoded.flags, casHi, casLo);
  if (encoded.value !== value) item.decoded = value;
  return item;
}

/** A getOrSet's Item with its data decoded, unless a load already gave it its data. */
function decodedOnce(promise: Promise<Item>, transcoder: Transcoder<any, any>, key: string): Promise<Item> {
  return promise.then((item) => (item.decoded !== undefined ? item : decodedItem(Promise.resolve(item), transcoder, key)));
}

function setCas(op: Command, item: Item): void {
  const cas = item.cas;
  op.casHi = Number(cas >> 32n);
  op.casLo = Number(cas & 0xffffffffn);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The caller's view of a shared promise: rejected with MC_ERR_ABORTED when
 * its own signal fires, the flight going on for the others. A Command is the
 * watcher, so one listener serves every call sharing a signal (signal-watch.ts).
 */
function abortable<T>(shared: Promise<T> | null, signal: AbortSignal): Promise<T> {
  const watcher = new Command(Verb.Lease);
  const promise = promiseOf<T>(watcher);
  if (watcher.watch(signal)) {
    shared!.then(
      (value) => watcher.succeed(value),
      (error: Error) => watcher.fail(error),
    );
  } else {
    // Fired already: the caller is told at once; a shared promise may still reject, for the others.
    shared?.catch(noop);
  }
  return promise;
}

function noop(): void {}

/** A landed flight's factory: never called (a flight is armed with its caller's before it starts). */
function noFactory(): never {
  throw new Error('getOrSet: a landed flight was started without being armed');
}
