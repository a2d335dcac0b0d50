import { ErrorCode, MemcacheError } from './errors.js';
import { Ring } from './hash/ring.js';
import type { ServerInput } from './hash/server.js';
import type { Item } from './item.js';
import { resolveOptions, type GroupOptions, type GroupSettings, type Protocol } from './group-options.js';
import { Pool, type PoolObserver } from './net/pool.js';
import { Command, Verb, commandError, promiseOf, verbName } from './command.js';
import { CommandContext, tracing } from './diagnostics/command-context.js';
import { checkKey } from './key.js';
import { rethrowWithCallerStack } from './caller-stack.js';
import { ClusterChangedEvent, DiscoveryFailedEvent, ServerEvent, type GroupEventListener, type GroupEventType } from './server-event.js';
import type { ClusterConfig } from './discovery/cluster-config.js';
import { ConfigEndpoint } from './discovery/config-endpoint.js';
import { FirstCluster } from './discovery/first-cluster.js';
import { connectHost, nextMembership } from './discovery/membership.js';
import { ClusterPoller, type ClusterObserver } from './discovery/poller.js';
import { disposeByClosing, type AsyncDisposableWhereTyped } from './dispose.js';
import { abortSignal, casToken, expiration, optionsObject, uint32, uint64 } from './validate.js';
import { Leases } from './lease/get-or-set.js';
import type { Factory, GetOrSetOptionsFor, InvalidateOptions } from './lease/options.js';
import { createCounter } from './protocol/text/create-counter.js';
import type { Decoded, Encodable, TranscoderChoice } from './transcode/registry.js';
import type { Encoded, Transcoder } from './transcode/transcoder.js';
import { decodedItem, decodedItems, encodeValue } from './transcode/apply.js';

export type { GroupOptions } from './group-options.js';
export type { Factory, GetOrSetOptions, GetOrSetOptionsFor, InvalidateOptions } from './lease/options.js';
export { ServerEvent, type GroupEventListener, type GroupEventMap, type ServerEventType } from './server-event.js';
export { ClusterChangedEvent, DiscoveryFailedEvent, type ClusterEventType, type GroupEventType } from './server-event.js';
export type { ClusterNode } from './discovery/cluster-config.js';

/** Per-call options every operation takes. */
export interface CallOptions {
  /** Rejects the call with MC_ERR_ABORTED when it fires. */
  signal?: AbortSignal;
}

export interface StoreOptions extends CallOptions {
  /**
   * Seconds to live (up to 2,592,000, 30 days), or an absolute Unix time
   * (`Math.floor(Date.now() / 1000) + seconds`); 0 = never expire. Default 0.
   * A value over 30 days that is not a future time is refused (MC_ERR_BAD_ARGUMENT).
   */
  expires?: number;
  /** 32 bits stored beside the value. Default 0. */
  flags?: number;
  /** Store only if the item's CAS token still matches (from Item.cas). */
  cas?: bigint;
}

export interface ConcatOptions extends CallOptions {
  cas?: bigint;
}

export interface DeleteOptions extends CallOptions {
  cas?: bigint;
}

export interface CounterOptions extends CallOptions {
  /** Create a missing key with this value (atomically). Without it a missing key resolves to null. */
  initial?: number | bigint;
  /** Expiration of the item when it is created, as StoreOptions' `expires`. Default 0. */
  expires?: number;
}

export type Value = string | Uint8Array;

/** A store's options: `flags` only with the default transcoder (the others set the flags). */
export type StoreOptionsFor<T extends TranscoderChoice> = T extends 'raw' ? StoreOptions : Omit<StoreOptions, 'flags'>;

/**
 * What Group adds to EventTarget's declaration (the run-time methods are
 * EventTarget's own): listeners typed by event name, so a misspelled name does
 * not compile, and `await using`, where the compiler knows Symbol.asyncDispose.
 */
export interface Group<T extends TranscoderChoice = 'raw'> extends AsyncDisposableWhereTyped {
  addEventListener<K extends GroupEventType>(
    type: K,
    // null as DOM's EventTarget takes it (it does nothing), so Group still fits where that is the EventTarget.
    listener: GroupEventListener<K, this> | null,
    options?: Parameters<EventTarget['addEventListener']>[2],
  ): void;
  removeEventListener<K extends GroupEventType>(
    type: K,
    listener: GroupEventListener<K, this> | null,
    options?: Parameters<EventTarget['removeEventListener']>[2],
  ): void;
}

/**
 * A group of memcached servers behind one API. Each key lives on one server;
 * operations that concern every server (flush, version, stats) say which
 * answer came from where.
 */
export class Group<T extends TranscoderChoice = 'raw'> extends EventTarget {
  // Replaced together, synchronously, when a discovered cluster changes: a call reads both in one go.
  private ring: Ring;
  private pools: readonly Pool[];
  /** With `discovery`: asks the configuration endpoint for the nodes. */
  private readonly discovery: ClusterPoller | null = null;
  /** What new pools are built with (discovered nodes). */
  private readonly poolSettings: GroupSettings['pool'];
  /** Pools of nodes gone from the cluster, closing once their operations settle. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly failover: 'fail' | 'eject';
  private readonly failureLimit: number;
  /** Rejections re-thrown with the caller's stack (caller-stack.ts). */
  private readonly callerStacks: boolean;
  private readonly maxValueSize: number;
  /** For the `memring:command` context. */
  private readonly protocol: Protocol;
  private closed = false;
  /** The `transcoder` option; null for the default (raw), which runs nothing. */
  readonly #transcoder: Transcoder<any, any> | null;
  /** getOrSet's flights in progress (lease/get-or-set.ts). */
  readonly #leases: Leases;
  /** What the pools tell about server health: kept out of Group's own API. */
  readonly #health: PoolObserver = {
    onDown: (pool, error) => this.serverDown(pool, error),
    onFailure: (pool, error) => this.ejectIfDue(pool, error),
    onUp: (pool) => this.serverUp(pool),
  };
  /** What the configuration endpoint's poller tells (discovery). */
  readonly #cluster: ClusterObserver = {
    onCluster: (config, previous) => this.clusterChanged(config, previous),
    onDiscoveryFailure: (error, kept) =>
      this.dispatchEvent(new DiscoveryFailedEvent(this.discovery!.address, error, kept?.version ?? null, kept?.nodes ?? [])),
  };

  static {
    // `await using group = new Group(...)` closes it (see dispose.ts for the key).
    disposeByClosing(this.prototype);
  }

  constructor(servers: readonly ServerInput[] | ServerInput, options: GroupOptions<T> = {}) {
    super();
    const settings = resolveOptions(options as GroupOptions);
    const list = Array.isArray(servers) ? servers : [servers as ServerInput];
    if (list.length === 0) throw new MemcacheError(ErrorCode.BAD_CONFIG, 'a group needs at least one server');
    this.failover = settings.failover;
    this.failureLimit = settings.failureLimit;
    this.callerStacks = settings.callerStacks;
    this.maxValueSize = settings.pool.maxValueSize;
    this.#transcoder = settings.transcoder;
    this.protocol = options.protocol ?? 'meta';
    // Lease commands come filled in: no operand (an add's CAS stays unset), no options.
    this.#leases = new Leases((op) => this.dispatch(op, NOT_GIVEN, undefined), this.protocol === 'meta', settings.pool.timeout, this.#transcoder);
    this.ring = new Ring(list, { distribution: settings.distribution, hash: settings.hash });
    this.poolSettings = settings.pool;
    // With discovery the listed server is the configuration endpoint, not a node: no pool until it answers.
    this.pools = settings.discovery !== undefined ? [] : this.ring.servers.map(
      (server) => new Pool({ ...settings.pool, host: server.host, port: server.port }, this.#health),
    );
    if (settings.discovery !== undefined) this.discovery = this.watchCluster(settings);
  }

  /** host:port of every server, in configured order. */
  get serverNames(): string[] {
    return this.pools.map((pool) => pool.address);
  }

  /**
   * host:port of the server that holds `key` now, or null when every server
   * is ejected. In `ketama` and `libmemcached-consistent` ejected servers are
   * skipped; in `modula`, as in libmemcached, a key stays on its own server
   * even when that server is down.
   */
  serverFor(key: string): string | null {
    checkKey(key);
    // With discovery, before the first cluster configuration: no node yet.
    if (this.pools.length === 0) return null;
    const index = this.ring.pick(key);
    return index < 0 ? null : this.pools[index]!.address;
  }

  // ---- reads ----

  /** The item, or null on a miss. */
  get(key: string, options?: CallOptions): Promise<Item<Decoded<T>> | null> {
    const op = new Command(Verb.Get);
    op.key = key;
    // Decoded where the call settles: a value the transcoder cannot read rejects this call only (MC_ERR_DECODE).
    if (this.#transcoder !== null) return decodedItem(this.dispatch(op, undefined, options), this.#transcoder, key);
    return this.dispatch(op, undefined, options);
  }

  /**
   * Items for the keys that exist; missing keys are absent from the map. Keys
   * are grouped by server and every server is asked at once (one pipelined
   * batch of GetKQ and a Noop each). A server that fails or is down counts
   * as a miss for its keys; the others' hits are still returned. With a
   * transcoder, a value it cannot decode rejects the call with a
   * GetMultiDecodeError (MC_ERR_DECODE) holding the other items and each
   * failed key's DecodeError.
   */
  getMulti(keys: Iterable<string>, options?: CallOptions): Promise<Map<string, Item<Decoded<T>>>> {
    if (!tracing()) return this.decodedMulti(this.multi(keys, options, null));
    const trace = new CommandContext('getMulti', this.protocol, this.pools.length === 1 ? this.pools[0]! : null);
    trace.start();
    try {
      return trace.follow(this.decodedMulti(this.multi(keys, options, trace)));
    } finally {
      trace.end();
    }
  }

  private decodedMulti(found: Promise<Map<string, Item>>): Promise<Map<string, Item<Decoded<T>>>> {
    return this.#transcoder === null ? (found as Promise<Map<string, Item<any>>>) : decodedItems(found, this.#transcoder);
  }

  /** getMulti, told of its keys and server when traced. */
  private multi(keys: Iterable<string>, options: CallOptions | undefined, trace: CommandContext | null): Promise<Map<string, Item>> {
    // The keys are copied at the call: the caller may reuse its array before the replies name the hits.
    const first = new Command(Verb.GetMulti);
    let signal: AbortSignal | undefined;
    try {
      signal = this.check(first, keys, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const list = first.keys!;
    if (trace !== null) trace.keys = list.length;
    const result = new Map<string, Item>();
    if (list.length === 0) return Promise.resolve(result);
    if (this.closed) return Promise.reject(clientClosed());
    if (this.pools.length === 0) return this.discovery!.firstCluster.wait(signal).then(() => this.multi(list, options, trace));
    if (this.pools.length === 1) return this.sendMulti(0, first, result, signal).then(() => result, this.callerStacks ? rethrowWithCallerStack : undefined);
    const buckets: string[][] = [];
    for (let i = 0; i < list.length; i++) {
      const index = this.ring.pick(list[i]!);
      if (index >= 0) (buckets[index] ??= []).push(list[i]!);
    }
    const parts: Promise<unknown>[] = [];
    for (let index = 0; index < buckets.length; index++) {
      const bucket = buckets[index];
      if (bucket === undefined) continue;
      const op = new Command(Verb.GetMulti);
      op.keys = bucket;
      parts.push(this.sendMulti(index, op, result, signal));
      // The context names the server only when it is the one involved.
      if (trace !== null) {
        if (parts.length === 1) trace.at(this.pools[index]!);
        else trace.server = trace.host = trace.port = undefined;
      }
    }
    return Promise.all(parts).then(() => result, this.callerStacks ? rethrowWithCallerStack : undefined);
  }

  /** Sets a new expiration (as StoreOptions' `expires`) and returns the item, or null on a miss. */
  gat(key: string, expires: number, options?: CallOptions): Promise<Item<Decoded<T>> | null> {
    const op = new Command(Verb.GetAndTouch);
    op.key = key;
    if (this.#transcoder !== null) return decodedItem(this.dispatch(op, expires, options), this.#transcoder, key);
    return this.dispatch(op, expires, options);
  }

  // ---- writes ----

  /** Stores the value. Resolves false only when a `cas` condition fails. */
  set(key: string, value: Encodable<T>, options?: StoreOptionsFor<T>): Promise<boolean> {
    return this.store(Verb.Set, key, value, NOT_GIVEN, options);
  }

  /** Stores only if the key does not exist; false if it does. */
  add(key: string, value: Encodable<T>, options?: StoreOptionsFor<T>): Promise<boolean> {
    return this.store(Verb.Add, key, value, NOT_GIVEN, options);
  }

  /** Stores only if the key exists; false if it does not. */
  replace(key: string, value: Encodable<T>, options?: StoreOptionsFor<T>): Promise<boolean> {
    return this.store(Verb.Replace, key, value, NOT_GIVEN, options);
  }

  /** Stores only if the item still has this CAS token; false if it changed or is gone. */
  cas(key: string, value: Encodable<T>, cas: bigint, options?: Omit<StoreOptionsFor<T>, 'cas'>): Promise<boolean> {
    return this.store(Verb.Set, key, value, cas, options);
  }

  /** Adds bytes after the stored value (raw, whatever the transcoder); false if the key does not exist. */
  append(key: string, value: Value, options?: ConcatOptions): Promise<boolean> {
    return this.concat(Verb.Append, key, value, options);
  }

  /** Adds bytes before the stored value (raw, whatever the transcoder); false if the key does not exist. */
  prepend(key: string, value: Value, options?: ConcatOptions): Promise<boolean> {
    return this.concat(Verb.Prepend, key, value, options);
  }

  /** Removes the key; false if it did not exist (or its CAS changed). */
  delete(key: string, options?: DeleteOptions): Promise<boolean> {
    const op = new Command(Verb.Delete);
    op.key = key;
    return this.dispatch(op, undefined, options);
  }

  /** Sets a new expiration (as StoreOptions' `expires`); false if the key does not exist. */
  touch(key: string, expires: number, options?: CallOptions): Promise<boolean> {
    const op = new Command(Verb.Touch);
    op.key = key;
    return this.dispatch(op, expires, options);
  }

  /**
   * Adds `delta` (wrapping at 2^64) and resolves to the new value. A missing
   * key resolves to null, or is created with `options.initial`.
   */
  incr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<bigint | null> {
    return this.counter(Verb.Increment, key, delta, options);
  }

  /** Subtracts `delta` (stopping at 0) and resolves to the new value; see incr. */
  decr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<bigint | null> {
    return this.counter(Verb.Decrement, key, delta, options);
  }

  // ---- cache-aside (README, "Avoiding stampedes") ----

  /**
   * The item, or on a miss the factory's value, stored with `options.expires`
   * and resolved as an Item. Concurrent calls for a key share one round trip
   * and one factory call; on meta, one caller of every client of the servers
   * loads a missing or invalidated key while the others wait (or get the stale
   * value at once). A factory that throws rejects its own call(s) only.
   */
  getOrSet(key: string, factory: Factory<Encodable<T>>, options: GetOrSetOptionsFor<T>): Promise<Item<Decoded<T>>> {
    return this.#leases.getOrSet(key, factory, options) as Promise<Item<any>>;
  }

  /**
   * Marks the item stale instead of deleting it (meta only, md I): getOrSet
   * callers keep getting it while the next one reloads it. False if the key
   * does not exist. MC_ERR_UNSUPPORTED on binary, without sending.
   */
  invalidate(key: string, options?: InvalidateOptions): Promise<boolean> {
    return this.#leases.invalidate(key, options);
  }

  // ---- every server ----

  /** Invalidates every item on every server, now or after `delay` (seconds, or an absolute Unix time, as `expires`). */
  flush(delay = 0, options?: CallOptions): Promise<void> {
    return this.everyServer(new Command(Verb.Flush), delay, options).then(nothing);
  }

  /** Each server's version, by host:port. */
  version(options?: CallOptions): Promise<Map<string, string>> {
    return this.everyServer(new Command(Verb.Version), undefined, options);
  }

  /**
   * Each server's statistics (optionally a group: "items", "slabs", "settings"...), by host:port.
   * Each record has no prototype: the names are the server's.
   */
  stats(group?: string, options?: CallOptions): Promise<Map<string, Record<string, string>>> {
    return this.everyServer(new Command(Verb.Stats), group, options);
  }

  /** A round trip to every server. */
  noop(options?: CallOptions): Promise<void> {
    return this.everyServer(new Command(Verb.Noop), undefined, options).then(nothing);
  }

  /** Lets operations in flight settle, then closes every connection. Later calls reject with MC_ERR_CLIENT_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    this.discovery?.close();
    await Promise.all([...this.pools.map((pool) => pool.close()), ...this.retiring]);
  }

  // ---- server health (through #health) ----

  private serverDown(pool: Pool, error: MemcacheError): void {
    this.dispatchEvent(new ServerEvent('server-down', pool.address, pool.failures, error));
    this.ejectIfDue(pool, error);
  }

  private serverUp(pool: Pool): void {
    const index = this.pools.indexOf(pool);
    // A pool whose node left the cluster is no longer on the ring.
    if (index >= 0 && !this.ring.isLive(index)) {
      this.ring.restore(index);
      this.dispatchEvent(new ServerEvent('server-restored', pool.address, 0, undefined));
    }
    this.dispatchEvent(new ServerEvent('server-up', pool.address, 0, undefined));
  }

  private ejectIfDue(pool: Pool, error: MemcacheError): void {
    // With one server there is nowhere to move its keys.
    if (this.failover !== 'eject' || this.pools.length === 1 || pool.failures < this.failureLimit) return;
    const index = this.pools.indexOf(pool);
    if (index < 0 || !this.ring.isLive(index)) return;
    this.ring.eject(index);
    this.dispatchEvent(new ServerEvent('server-ejected', pool.address, pool.failures, error));
  }

  // ---- discovery (through #cluster) ----

  /** Starts asking the configuration endpoint, the one listed server, for the cluster's nodes. */
  private watchCluster(settings: GroupSettings): ClusterPoller {
    const servers = this.ring.servers;
    if (servers.length !== 1) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, `discovery takes exactly one server, the configuration endpoint (${servers.length} listed)`);
    }
    const endpoint = servers[0]!;
    const pool = settings.pool;
    const poller = new ClusterPoller(
      new ConfigEndpoint({
        host: endpoint.host,
        port: endpoint.port,
        address: endpoint.address,
        transport: pool.transport,
        connectTimeout: pool.connectTimeout,
        timeout: pool.timeout,
        keepAliveDelay: pool.keepAliveDelay,
        tls: pool.tls,
      }),
      { interval: settings.discovery!.interval, retryDelay: pool.retryDelay, maxRetryDelay: pool.maxRetryDelay },
      this.#cluster,
      new FirstCluster(pool.timeout, pool.maxQueueSize, endpoint.address),
    );
    poller.start();
    return poller;
  }

  /**
   * A new cluster version: the ring and pools are replaced in one step, so
   * calls from now on go only to the listed nodes; a node that stays keeps
   * its pool; a removed node's pool closes once its operations settle.
   */
  private clusterChanged(config: ClusterConfig, previous: ClusterConfig | null): void {
    const next = nextMembership(config.nodes, previous?.nodes ?? [], this.pools, (node) =>
      new Pool({ ...this.poolSettings, host: connectHost(node), port: node.port }, this.#health),
    );
    // A kept pool that 'eject' had taken off the old ring stays off the new one until a probe succeeds.
    if (this.failover === 'eject' && next.pools.length > 1) {
      next.ring.setLive(next.pools.map((pool) => !(pool.isDown && pool.failures >= this.failureLimit)));
    }
    this.ring = next.ring;
    this.pools = next.pools;
    for (const pool of next.retired) {
      const closing = pool.close().finally(() => this.retiring.delete(closing));
      this.retiring.add(closing);
    }
    this.dispatchEvent(
      new ClusterChangedEvent(this.discovery!.address, config.version, previous?.version ?? null, config.nodes, next.added, next.removed),
    );
  }

  /** A call made before the first cluster configuration: routed once it is known, or failed (see FirstCluster). */
  private afterFirstCluster(op: Command): void {
    // Bad input is refused at once, not after the wait.
    const bad = commandError(op, this.maxValueSize);
    if (bad !== null) return op.fail(bad);
    this.discovery!.firstCluster.wait(op.signal).then(
      () => {
        if (!op.settled) this.route(op);
      },
      (error: MemcacheError) => op.fail(commandError(op, this.maxValueSize) ?? error),
    );
  }

  // ---- internals ----

  private store(verb: Verb, key: string, value: unknown, cas: unknown, options: unknown): Promise<boolean> {
    const op = new Command(verb);
    op.key = key;
    if (this.#transcoder !== null) return this.storeEncoded(op, value, cas, options);
    op.value = value as Value;
    return this.dispatch(op, cas, options);
  }

  /** store() through the transcoder: the value encoded (asynchronously when it compresses under Workers), then dispatched. */
  private storeEncoded(op: Command, value: unknown, cas: unknown, options: unknown): Promise<boolean> {
    let encoded: Encoded | Promise<Encoded>;
    try {
      encoded = encodeValue(this.#transcoder!, value, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (encoded instanceof Promise) return encoded.then((done) => this.storeAs(op, done, cas, options));
    return this.storeAs(op, encoded, cas, options);
  }

  private storeAs(op: Command, encoded: Encoded, cas: unknown, options: unknown): Promise<boolean> {
    op.value = encoded.value;
    op.flags = encoded.flags;
    return this.dispatch(op, cas, options);
  }

  private concat(verb: Verb, key: string, value: Value, options: unknown): Promise<boolean> {
    const op = new Command(verb);
    op.key = key;
    op.value = value;
    return this.dispatch(op, undefined, options);
  }

  private counter(verb: Verb, key: string, delta: unknown, options: unknown): Promise<bigint | null> {
    const op = new Command(verb);
    op.key = key;
    return this.dispatch(op, delta, options);
  }

  /**
   * The check of a call's operand (by verb: expiration, delta, delay, CAS
   * token, stats group, multi-get keys) and options, each refused with its
   * own code. Fills `op`; returns the signal to watch. The key and value are
   * checked where they are needed: by the codec as it writes them (once, on
   * the hot path), and before any failure that does not send (closed,
   * aborted, no server left, down, queue full: see commandError), so a
   * programming error never shows up as an outage.
   */
  private check(op: Command, operand: unknown, options: unknown): AbortSignal | undefined {
    optionsObject(options, 'options');
    const given = options as AnyOptions | undefined;
    switch (op.verb) {
      case Verb.Get:
        break;
      case Verb.Set:
      case Verb.Add:
      case Verb.Replace:
        // A positional CAS token (cas()) wins over options.cas.
        if (operand !== NOT_GIVEN) setCas(op, operand);
        if (given !== undefined) {
          if (given.expires !== undefined) op.expires = expiration(given.expires, 'expires');
          if (given.flags !== undefined) op.flags = uint32(given.flags, 'flags');
          if (operand === NOT_GIVEN && given.cas !== undefined) setCas(op, given.cas);
        }
        break;
      case Verb.Append:
      case Verb.Prepend:
      case Verb.Delete:
        if (given?.cas !== undefined) setCas(op, given.cas);
        break;
      case Verb.Touch:
      case Verb.GetAndTouch:
        op.expires = expiration(operand, 'expires');
        break;
      case Verb.Increment:
      case Verb.Decrement:
        op.delta = uint64(operand, 'delta');
        if (given?.initial !== undefined) {
          op.create = true;
          op.initial = uint64(given.initial, 'initial');
          op.expires = given.expires === undefined ? 0 : expiration(given.expires, 'expires');
          // Usable on no protocol: binary reads it as "do not create", meta and text as a negative TTL
          // (refused by their codecs). Checked here so it is refused even when no server could take the call.
          if (op.expires === 0xffffffff) {
            throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'a counter created with expires 0xFFFFFFFF is not possible (binary reads it as "do not create", meta and text as a negative TTL); use another');
          }
        }
        break;
      case Verb.GetMulti:
        op.keys = keyList(operand);
        break;
      case Verb.Flush:
        // flush_all reads its delay as an expiration too: a past absolute time flushes at once.
        op.expires = expiration(operand, 'delay');
        break;
      case Verb.Stats:
        if (operand !== undefined && typeof operand !== 'string') {
          throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'stats group must be a string');
        }
        op.key = operand ?? '';
        break;
    }
    return given === undefined ? undefined : abortSignal(given.signal);
  }

  /** A single-key call: traced while someone subscribes to `memring:command`, else one check. */
  private dispatch<T>(op: Command, operand: unknown, options: unknown): Promise<T> {
    if (!tracing()) return this.run(op, operand, options);
    // cas() sends a Set with its token as the operand.
    const name = op.verb === Verb.Set && operand !== NOT_GIVEN ? 'cas' : verbName(op.verb);
    const trace = new CommandContext(name, this.protocol, this.poolFor(op));
    op.trace = trace;
    trace.start();
    try {
      return this.run(op, operand, options);
    } finally {
      trace.end();
    }
  }

  /** The pool a single-key command will go to, or null (a traced call's server, picked as route picks it). */
  private poolFor(op: Command): Pool | null {
    if (this.pools.length <= 1) return this.pools[0] ?? null;
    if (typeof op.key !== 'string') return null;
    const index = this.ring.pick(op.key);
    return index < 0 ? null : this.pools[index]!;
  }

  private run<T>(op: Command, operand: unknown, options: unknown): Promise<T> {
    const promise = promiseOf<T>(op);
    let signal: AbortSignal | undefined;
    try {
      signal = this.check(op, operand, options);
    } catch (error) {
      op.fail(error as Error);
      return promise;
    }
    if (this.closed || signal?.aborted === true) {
      // A failure that sends nothing still reports bad input as such.
      const bad = commandError(op, this.maxValueSize);
      if (bad !== null) op.fail(bad);
      else if (this.closed) op.fail(clientClosed());
      else op.watch(signal);
      return promise;
    }
    // Failures found from here on (by a socket, a timer, a down server) are told with the caller's stack;
    // those above were thrown within the call and have it already.
    op.callerStack = this.callerStacks;
    if (op.watch(signal)) this.route(op);
    return promise;
  }

  /** Sends a single-key operation to the server that holds its key. */
  private route(op: Command): void {
    let pool: Pool;
    if (this.pools.length === 0) return this.afterFirstCluster(op);
    if (this.pools.length === 1) pool = this.pools[0]!;
    else {
      // Only a string is hashed; the codec checks the rest of the key rule as it writes it.
      if (typeof op.key !== 'string') return op.fail(commandError(op, this.maxValueSize)!);
      const index = this.ring.pick(op.key);
      if (index < 0) {
        op.fail(commandError(op, this.maxValueSize) ?? new MemcacheError(ErrorCode.NO_SERVERS, 'every server of the group is ejected'));
        return;
      }
      pool = this.pools[index]!;
    }
    // Text has no atomic create: incr/decr with an initial value runs as steps (text/create-counter.ts).
    if (op.create && this.protocol === 'text') return createCounter(op, pool);
    pool.send(op);
  }

  /** Sends one server's part of a multi-get; resolves once its hits are in `result`. */
  private sendMulti(index: number, op: Command, result: Map<string, Item>, signal: AbortSignal | undefined): Promise<unknown> {
    op.result = result;
    const part = promiseOf<unknown>(op).catch(missUnlessCallerError);
    if (op.watch(signal)) this.pools[index]!.send(op);
    return part;
  }

  /** Runs a copy of `template` (once checked) on every server; resolves to each server's answer by host:port. */
  private everyServer<T>(template: Command, operand: unknown, options: unknown): Promise<Map<string, T>> {
    if (!tracing()) return this.eachServer(template, operand, options);
    const trace = new CommandContext(verbName(template.verb), this.protocol, this.pools.length === 1 ? this.pools[0]! : null);
    trace.start();
    try {
      return trace.follow(this.eachServer<T>(template, operand, options));
    } finally {
      trace.end();
    }
  }

  private eachServer<T>(template: Command, operand: unknown, options: unknown): Promise<Map<string, T>> {
    let signal: AbortSignal | undefined;
    try {
      signal = this.check(template, operand, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.pools.length === 0 && !this.closed) {
      return this.discovery!.firstCluster.wait(signal).then(() => this.eachServer<T>(template, operand, options));
    }
    // The pools of this call: the cluster may change before the answers are in.
    const pools = this.pools;
    const answers = pools.map((pool) => {
      const op = new Command(template.verb);
      op.key = template.key;
      op.expires = template.expires;
      // Stat names are the server's: "__proto__" must stay a plain name.
      if (op.verb === Verb.Stats) op.result = Object.create(null);
      const promise = promiseOf<T>(op);
      if (this.closed) op.fail(clientClosed());
      else if (op.watch(signal)) pool.send(op);
      return promise;
    });
    return Promise.all(answers).then((values) => {
      const byServer = new Map<string, T>();
      pools.forEach((pool, i) => byServer.set(pool.address, values[i]!));
      return byServer;
    }, this.callerStacks ? rethrowWithCallerStack : undefined);
  }
}

/** Every option a call may take; check() reads those of its kind. */
type AnyOptions = Partial<StoreOptions & CounterOptions>;

/** The operand of set, add and replace: no positional CAS token (cas() gives one). */
const NOT_GIVEN: unique symbol = Symbol('not given');

/** A multi-get's keys, copied from any iterable (a throwing iterator throws here, inside the check). */
function keyList(keys: unknown): string[] {
  if (typeof keys === 'string' || typeof (keys as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== 'function') {
    throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'getMulti takes an iterable of keys (an array, a Set...)');
  }
  const list = Array.isArray(keys) ? (keys.slice() as string[]) : Array.from(keys as Iterable<string>);
  // All keys are checked before any server is asked: a bad key sends nothing anywhere.
  for (let i = 0; i < list.length; i++) checkKey(list[i]);
  return list;
}

function nothing(): void {}

function clientClosed(): MemcacheError {
  return new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed');
}

/** In a multi-get, a server's failure makes its keys misses; the caller's own doing still rejects. */
function missUnlessCallerError(error: MemcacheError): void {
  if (error.code === ErrorCode.ABORTED || error.code === ErrorCode.CLIENT_CLOSED || error.code === ErrorCode.BAD_KEY) {
    throw error;
  }
}

function setCas(op: Command, cas: unknown): void {
  const token = casToken(cas);
  op.casHi = Number(token >> 32n);
  op.casLo = Number(token & 0xffffffffn);
}
