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
import type { Item } from '../item.js';
import { checkKey } from '../key.js';
import type { Value } from '../group.js';
import { decodeItem, encodeValue, refuseFlags } from '../transcode/apply.js';
import type { Encoded, Transcoder } from '../transcode/transcoder.js';
import { FirstRead } from './first-read.js';
import { noop, PlainFlight, type Flight } from './flight.js';
import { LeaseFlight } from './lease-flight.js';
import { readGetOrSetOptions, readInvalidateOptions, type Factory, type LeaseSettings } from './options.js';

/** Sends a command the way Group sends its own (closed check, routing, tracing); resolves to its reply. */
export type Send = (op: Command) => Promise<unknown>;

function newSettings(): LeaseSettings {
  return { storeFor: 0, staleFor: 0, lockFor: 0, flags: 0, wait: 0, signal: undefined };
}

/** Where a call's options are checked and read: copied into a flight only when it needs them. */
const checked = newSettings();

/** One per Group: the loads in progress, by key. */
export class Leases {
  /**
   * The flights past their first reply that did not hit (a load, a wait for
   * another client's, a stale value served meanwhile), by key: only those,
   * so a hit costs no lookup while nothing loads, and the list holds no more
   * than the loads in progress. Calls whose request crossed the loading
   * one's join here when their own reply is a miss (or Z).
   */
  private loading = new Map<string, Flight>();

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
      if (this.transcoder !== null) refuseFlags(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = checked.signal;
    checked.signal = undefined;
    if (signal?.aborted === true) return abortable(null, signal);
    let promise = this.call(key, factory, options);
    // Decoded where the call settles, as Group.get does: a value the transcoder cannot read rejects the calls that read it.
    if (this.transcoder !== null) promise = decodedOnce(promise, this.transcoder, key);
    return signal === undefined ? promise : abortable(promise, signal);
  }

  /** Joins the key's load in progress here, or sends this call's own first read. */
  private call(key: string, factory: Factory<unknown>, options: unknown): Promise<Item> {
    if (this.loading.size !== 0) {
      // A joining call shares the loading call's factory and options (checked all the same).
      const flight = this.loading.get(key);
      if (flight !== undefined) return flight.join();
    }
    // mg <key> v f c [R<staleFor>] on meta (N only after a miss: lease-flight.ts); a get elsewhere.
    const op = new Command(this.meta ? Verb.Lease : Verb.Get);
    op.key = key;
    if (this.meta) op.recache = checked.staleFor;
    op.outcome = new FirstRead(this, factory, options);
    return this.send(op) as Promise<Item>;
  }

  /**
   * @internal What a first read that was not a hit means: a flight for the
   * key (the load runs for everyone who joins it, no one caller's signal
   * stops it), made with the call's own factory and options.
   */
  notHit(key: string, factory: Factory<unknown>, options: unknown, reply: unknown): Item | Promise<Item> {
    const settings = newSettings();
    readGetOrSetOptions(factory, options, this.timeout, settings);
    settings.signal = undefined;
    const flight = this.meta ? new LeaseFlight(this, key, factory, settings) : new PlainFlight(this, key, factory, settings);
    return flight.decide(reply);
  }

  /**
   * @internal A flight whose first reply was not a hit asks to be the key's
   * flight: the flight already listed for the key (which it should join), or
   * itself. A winner of a lease always lists itself: it is the one that stores.
   */
  claim<F extends Flight>(flight: F, won: boolean): F | Flight {
    const listed = this.loading.get(flight.key);
    if (listed !== undefined && listed !== flight && !won) return listed;
    this.loading.set(flight.key, flight);
    flight.listed = true;
    return flight;
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
    if (signal?.aborted === true) return abortable(null, signal, Verb.Invalidate);
    const op = new Command(Verb.Invalidate);
    op.key = key;
    op.expires = staleFor;
    const promise = this.send(op) as Promise<boolean>;
    return signal === undefined ? promise : abortable(promise, signal, Verb.Invalidate);
  }

  /** @internal */
  sendCommand(op: Command): Promise<unknown> {
    return this.send(op);
  }

  /** @internal The flight is over: later calls start a new one. */
  land(flight: Flight): void {
    if (!flight.listed) return;
    flight.listed = false;
    // Off the list only if it is still the key's (a lease's winner may have replaced a waiter).
    if (this.loading.get(flight.key) === flight) this.loading.delete(flight.key);
  }

  /** @internal A loaded value as it is stored: through the group's transcoder, or as given with the call's flags. */
  encode(value: unknown, settings: LeaseSettings): Encoded | Promise<Encoded> {
    if (this.transcoder !== null) return encodeValue(this.transcoder, value, undefined);
    return { value: value as Value, flags: settings.flags };
  }
}

/** A getOrSet's Item with its data decoded, unless a load already gave it its data. */
function decodedOnce(promise: Promise<Item>, transcoder: Transcoder<any, any>, key: string): Promise<Item> {
  return promise.then((item) => (item.decoded !== undefined ? item : decodeItem(item, transcoder, key)));
}

/**
 * The caller's view of a shared promise: rejected with MC_ERR_ABORTED when
 * its own signal fires, the flight going on for the others. A Command is the
 * watcher, so one listener serves every call sharing a signal (signal-watch.ts).
 */
function abortable<T>(shared: Promise<T> | null, signal: AbortSignal, verb: Verb = Verb.Lease): Promise<T> {
  // The verb names the call in the MC_ERR_ABORTED message ("getOrSet aborted by its signal").
  const watcher = new Command(verb);
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
