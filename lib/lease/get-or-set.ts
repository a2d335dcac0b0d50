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
import { readGetOrSetOptions, readInvalidateOptions, type Factory, type LeaseSettings } from './options.js';

/** Sends a command the way Group sends its own (closed check, routing, tracing); resolves to its reply. */
export type Send = (op: Command) => Promise<unknown>;

/** First and last pause between a waiting caller's polls, in ms. */
const FIRST_POLL = 5;
const LAST_POLL = 50;

const utf8 = new TextEncoder();

/** A joining call's settings are checked, then dropped (it shares the first call's). */
const discarded: LeaseSettings = { storeFor: 0, staleFor: 0, lockFor: 0, flags: 0, wait: 0, signal: undefined };

/** One per Group: the flights in progress, by key. */
export class Leases {
  private readonly flights = new Map<string, Flight>();

  constructor(
    private readonly send: Send,
    /** Whether the group speaks meta: leases across processes, invalidate. */
    private readonly meta: boolean,
    /** The group's timeout: how long a caller waits for another's load by default. */
    private readonly timeout: number,
  ) {}

  getOrSet(key: string, factory: Factory, options: unknown): Promise<Item> {
    const flight = this.flights.get(key);
    let promise: Promise<Item>;
    let signal: AbortSignal | undefined;
    try {
      if (flight !== undefined) {
        readGetOrSetOptions(factory, options, this.timeout, discarded);
        signal = discarded.signal;
        discarded.signal = undefined;
        promise = flight.join();
      } else {
        checkKey(key);
        const fresh = this.meta ? new LeaseFlight(this, key, factory) : new PlainFlight(this, key, factory);
        readGetOrSetOptions(factory, options, this.timeout, fresh);
        signal = fresh.signal;
        // The flight runs for everyone who joins it: no one caller's signal stops it.
        fresh.signal = undefined;
        if (signal?.aborted === true) return abortable(null, signal);
        this.flights.set(key, fresh);
        promise = fresh.start();
      }
    } catch (error) {
      return Promise.reject(error);
    }
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
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
  }
}

/** One key's load in progress in this process, and its settings (the first call's). */
abstract class Flight implements LeaseSettings {
  storeFor = 0;
  staleFor = 0;
  lockFor = 0;
  flags = 0;
  wait = 0;
  signal: AbortSignal | undefined = undefined;

  constructor(
    protected readonly leases: Leases,
    readonly key: string,
    protected readonly factory: Factory,
  ) {}

  /** Sends the flight's first request; resolves to what the caller that started it gets. */
  abstract start(): Promise<Item>;
  /** What a concurrent call for the same key gets. */
  abstract join(): Promise<Item>;
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
    return (this.promise = this.leases.sendCommand(op).then(
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
      const value = await this.factory(this.key);
      const op = new Command(Verb.Add);
      op.key = this.key;
      op.value = value;
      op.flags = this.flags;
      // staleFor means nothing without leases: the value lives `expires`.
      op.expires = this.storeFor - this.staleFor;
      await this.leases.sendCommand(op);
      return this.land(loaded(value, this.flags, 0, 0));
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
 */
class LeaseFlight extends Flight {
  /** The joiners' promise, made when the first one joins. */
  private shared: Promise<Item> | null = null;
  private resolveShared: (item: Item) => void = noop;
  private rejectShared: (error: unknown) => void = noop;
  /** Set once the joiners have their answer (a stale value may come before the load ends). */
  private answered = false;
  /** While this flight reloads over a value still worth serving: what a joiner gets at once. */
  private stale: Item | null = null;

  start(): Promise<Item> {
    return this.lease().then(
      (reply) => this.decide(reply),
      (error) => this.crash(error),
    );
  }

  join(): Promise<Item> {
    if (this.stale !== null) return Promise.resolve(this.stale);
    if (this.shared === null) {
      this.shared = new Promise<Item>((resolve, reject) => {
        this.resolveShared = resolve;
        this.rejectShared = reject;
      });
    }
    return this.shared;
  }

  private land(item: Item): Item {
    this.leases.land(this);
    this.answer(item);
    return item;
  }

  private crash(error: unknown): never {
    this.leases.land(this);
    if (!this.answered) {
      this.answered = true;
      this.rejectShared(error);
    }
    throw error;
  }

  private answer(item: Item): void {
    if (this.answered) return;
    this.answered = true;
    this.resolveShared(item);
  }

  /** `mg <key> v f c N<lockFor> [R<staleFor>]`. */
  private lease(): Promise<unknown> {
    const op = new Command(Verb.Lease);
    op.key = this.key;
    op.expires = this.lockFor;
    op.recache = this.staleFor;
    return this.leases.sendCommand(op);
  }

  /** What a lease reply means for this flight: done, load, or wait. */
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
      this.stale = lease.item;
      this.answer(lease.item);
    }
    try {
      let value: Value;
      try {
        value = await this.factory(this.key);
      } catch (error) {
        await this.release(lease);
        throw error;
      }
      const op = new Command(Verb.LeaseStore);
      op.key = this.key;
      op.value = value;
      op.flags = this.flags;
      op.expires = this.storeFor;
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
      return this.land(stored ? loaded(value, this.flags, op.casHi, op.casLo) : loaded(value, this.flags, 0, 0));
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

  /** Polls until another client's load is stored, the win comes here, or `wait` runs out. */
  private async waitForLoad(): Promise<Item> {
    try {
      const deadline = Date.now() + this.wait;
      for (let pause = FIRST_POLL; ; pause = Math.min(pause * 2, LAST_POLL)) {
        if (Date.now() + pause > deadline) {
          throw new MemcacheError(
            ErrorCode.TIMEOUT,
            `getOrSet waited ${this.wait} ms for another client to load the value (raise its timeout, up to lockFor)`,
          );
        }
        await sleep(pause);
        const reply = await this.lease();
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

/** The Item a load resolves to: the factory's value as bytes, with the stored CAS (0 when not stored). */
function loaded(value: Value, flags: number, casHi: number, casLo: number): Item {
  return new Item(typeof value === 'string' ? utf8.encode(value) : value, flags, casHi, casLo);
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
