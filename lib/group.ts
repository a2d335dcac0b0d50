import { ErrorCode, MemcacheError } from './errors.js';
import { Ring } from './hash/ring.js';
import type { ServerInput } from './hash/server.js';
import type { Item } from './item.js';
import { resolveOptions, type GroupOptions } from './group-options.js';
import { Pool, type PoolObserver } from './net/pool.js';
import { Opcode } from './protocol/opcodes.js';
import { Kind, NO_CREATE, Operation, promiseOf } from './protocol/operation.js';
import { checkKey } from './key.js';
import { ServerEvent } from './server-event.js';
import { abortSignal, casToken, optionsObject, uint32, uint64 } from './validate.js';

export type { GroupOptions } from './group-options.js';
export { ServerEvent, type ServerEventType } from './server-event.js';

/** Per-call options every operation takes. */
export interface CallOptions {
  /** Rejects the call with MC_ERR_ABORTED when it fires. */
  signal?: AbortSignal;
}

export interface StoreOptions extends CallOptions {
  /** Seconds to live (up to 30 days), or an absolute Unix time; 0 = never expire. Default 0. */
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
  /** Expiration of the item when it is created. Default 0. */
  expires?: number;
}

export type Value = string | Uint8Array;

/**
 * A group of memcached servers behind one API. Each key lives on one server;
 * operations that concern every server (flush, version, stats) say which
 * answer came from where.
 */
export class Group extends EventTarget implements PoolObserver {
  private readonly ring: Ring;
  private readonly pools: readonly Pool[];
  private readonly failover: 'fail' | 'eject';
  private readonly failureLimit: number;
  private closed = false;

  constructor(servers: readonly ServerInput[] | ServerInput, options: GroupOptions = {}) {
    super();
    const settings = resolveOptions(options);
    const list = Array.isArray(servers) ? servers : [servers as ServerInput];
    if (list.length === 0) throw new MemcacheError(ErrorCode.BAD_CONFIG, 'a group needs at least one server');
    this.failover = settings.failover;
    this.failureLimit = settings.failureLimit;
    this.ring = new Ring(list, { distribution: settings.distribution });
    this.pools = this.ring.servers.map((server) => new Pool({ ...settings.pool, host: server.host, port: server.port }, this));
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
    const index = this.ring.pick(key);
    return index < 0 ? null : this.pools[index]!.address;
  }

  // ---- reads ----

  /** The item, or null on a miss. */
  get(key: string, options?: CallOptions): Promise<Item | null> {
    const op = new Operation(Kind.Get, Opcode.Get);
    op.key = key;
    return this.dispatch(op, options);
  }

  /**
   * Items for the keys that exist; missing keys are absent from the map. Keys
   * are grouped by server and every server is asked at once (one pipelined
   * batch of GetKQ and a Noop each). A server that fails or is down counts
   * as a miss for its keys; the others' hits are still returned.
   */
  getMulti(keys: Iterable<string>, options?: CallOptions): Promise<Map<string, Item>> {
    if (typeof keys === 'string' || typeof (keys as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
      return Promise.reject(new MemcacheError(ErrorCode.BAD_ARGUMENT, 'getMulti takes an iterable of keys (an array, a Set...)'));
    }
    const list = Array.isArray(keys) ? (keys as string[]) : Array.from(keys);
    const result = new Map<string, Item>();
    if (list.length === 0) return Promise.resolve(result);
    let signal: AbortSignal | undefined;
    const buckets: string[][] = [];
    try {
      signal = options === undefined ? undefined : abortSignal(options.signal);
      // All keys are checked before any server is asked: a bad key sends nothing anywhere.
      for (let i = 0; i < list.length; i++) checkKey(list[i]);
      if (this.pools.length === 1) buckets[0] = list;
      else {
        for (let i = 0; i < list.length; i++) {
          const index = this.ring.pick(list[i]!);
          if (index >= 0) (buckets[index] ??= []).push(list[i]!);
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.closed) return Promise.reject(clientClosed());
    const parts: Promise<unknown>[] = [];
    for (let index = 0; index < buckets.length; index++) {
      const bucket = buckets[index];
      if (bucket === undefined) continue;
      const op = new Operation(Kind.GetMulti, Opcode.GetKQ);
      op.keys = bucket;
      op.key = bucket[0]!;
      op.result = result;
      const part = promiseOf<unknown>(op);
      if (op.watch(signal)) this.pools[index]!.send(op);
      parts.push(part.catch(missUnlessCallerError));
    }
    return Promise.all(parts).then(() => result);
  }

  /** Sets a new expiration and returns the item, or null on a miss. */
  gat(key: string, expires: number, options?: CallOptions): Promise<Item | null> {
    const op = new Operation(Kind.GetAndTouch, Opcode.GAT);
    op.key = key;
    return this.withExpires(op, expires, options);
  }

  // ---- writes ----

  /** Stores the value. Resolves false only when a `cas` condition fails. */
  set(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(Opcode.Set, key, value, options);
  }

  /** Stores only if the key does not exist; false if it does. */
  add(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(Opcode.Add, key, value, options);
  }

  /** Stores only if the key exists; false if it does not. */
  replace(key: string, value: Value, options?: StoreOptions): Promise<boolean> {
    return this.store(Opcode.Replace, key, value, options);
  }

  /** Stores only if the item still has this CAS token; false if it changed or is gone. */
  cas(key: string, value: Value, cas: bigint, options?: Omit<StoreOptions, 'cas'>): Promise<boolean> {
    return this.store(Opcode.Set, key, value, { ...options, cas });
  }

  /** Adds bytes after the stored value; false if the key does not exist. */
  append(key: string, value: Value, options?: ConcatOptions): Promise<boolean> {
    return this.concat(Opcode.Append, key, value, options);
  }

  /** Adds bytes before the stored value; false if the key does not exist. */
  prepend(key: string, value: Value, options?: ConcatOptions): Promise<boolean> {
    return this.concat(Opcode.Prepend, key, value, options);
  }

  /** Removes the key; false if it did not exist (or its CAS changed). */
  delete(key: string, options?: DeleteOptions): Promise<boolean> {
    const op = new Operation(Kind.Delete, Opcode.Delete);
    op.key = key;
    return this.dispatchWithCas(op, options);
  }

  /** Sets a new expiration; false if the key does not exist. */
  touch(key: string, expires: number, options?: CallOptions): Promise<boolean> {
    const op = new Operation(Kind.Touch, Opcode.Touch);
    op.key = key;
    return this.withExpires(op, expires, options);
  }

  /**
   * Adds `delta` (wrapping at 2^64) and resolves to the new value. A missing
   * key resolves to null, or is created with `options.initial`.
   */
  incr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<bigint | null> {
    return this.counter(Opcode.Increment, key, delta, options);
  }

  /** Subtracts `delta` (stopping at 0) and resolves to the new value; see incr. */
  decr(key: string, delta: number | bigint = 1, options?: CounterOptions): Promise<bigint | null> {
    return this.counter(Opcode.Decrement, key, delta, options);
  }

  // ---- every server ----

  /** Invalidates every item on every server, now or after `delay` seconds. */
  async flush(delay = 0): Promise<void> {
    const seconds = uint32(delay, 'delay');
    await this.everyServer(() => {
      const op = new Operation(Kind.Flush, Opcode.Flush);
      op.expires = seconds;
      return op;
    });
  }

  /** Each server's version, by host:port. */
  version(): Promise<Map<string, string>> {
    return this.everyServer(() => new Operation(Kind.Version, Opcode.Version));
  }

  /** Each server's statistics (optionally a group: "items", "slabs", "settings"...), by host:port. */
  stats(group?: string): Promise<Map<string, Record<string, string>>> {
    if (group !== undefined && typeof group !== 'string') {
      return Promise.reject(new MemcacheError(ErrorCode.BAD_ARGUMENT, 'stats group must be a string'));
    }
    return this.everyServer(() => {
      const op = new Operation(Kind.Stats, Opcode.Stat);
      op.key = group ?? '';
      op.result = {};
      return op;
    });
  }

  /** A round trip to every server. */
  async noop(): Promise<void> {
    await this.everyServer(() => new Operation(Kind.Noop, Opcode.Noop));
  }

  /** Lets operations in flight settle, then closes every connection. Later calls reject with MC_ERR_CLIENT_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pools.map((pool) => pool.close()));
  }

  // ---- PoolObserver: server health ----

  onDown(pool: Pool, error: MemcacheError): void {
    this.dispatchEvent(new ServerEvent('server-down', pool.address, pool.failures, error));
    this.ejectIfDue(pool, error);
  }

  onFailure(pool: Pool, error: MemcacheError): void {
    this.ejectIfDue(pool, error);
  }

  onUp(pool: Pool): void {
    const index = this.pools.indexOf(pool);
    if (!this.ring.isLive(index)) {
      this.ring.restore(index);
      this.dispatchEvent(new ServerEvent('server-restored', pool.address, 0, undefined));
    }
    this.dispatchEvent(new ServerEvent('server-up', pool.address, 0, undefined));
  }

  private ejectIfDue(pool: Pool, error: MemcacheError): void {
    // With one server there is nowhere to move its keys.
    if (this.failover !== 'eject' || this.pools.length === 1 || pool.failures < this.failureLimit) return;
    const index = this.pools.indexOf(pool);
    if (!this.ring.isLive(index)) return;
    this.ring.eject(index);
    this.dispatchEvent(new ServerEvent('server-ejected', pool.address, pool.failures, error));
  }

  // ---- internals ----

  private store(opcode: number, key: string, value: Value, options: StoreOptions | undefined): Promise<boolean> {
    const op = new Operation(Kind.Store, opcode);
    op.key = key;
    op.value = value;
    if (options !== undefined) {
      try {
        optionsObject(options, 'options');
        if (options.expires !== undefined) op.expires = uint32(options.expires, 'expires');
        if (options.flags !== undefined) op.flags = uint32(options.flags, 'flags');
        if (options.cas !== undefined) setCas(op, options.cas);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.dispatch(op, options);
  }

  private concat(opcode: number, key: string, value: Value, options: ConcatOptions | undefined): Promise<boolean> {
    const op = new Operation(Kind.Concat, opcode);
    op.key = key;
    op.value = value;
    return this.dispatchWithCas(op, options);
  }

  /** Dispatches an operation whose only option (besides the signal) is a CAS condition. */
  private dispatchWithCas<T>(op: Operation, options: (CallOptions & { cas?: bigint }) | undefined): Promise<T> {
    if (options !== undefined) {
      try {
        optionsObject(options, 'options');
        if (options.cas !== undefined) setCas(op, options.cas);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.dispatch(op, options);
  }

  private counter(
    opcode: number,
    key: string,
    delta: number | bigint,
    options: CounterOptions | undefined,
  ): Promise<bigint | null> {
    const op = new Operation(Kind.Counter, opcode);
    op.key = key;
    op.expires = NO_CREATE;
    try {
      op.delta = uint64(delta, 'delta');
      if (options !== undefined) {
        optionsObject(options, 'options');
        if (options.initial !== undefined) {
          op.initial = uint64(options.initial, 'initial');
          op.expires = options.expires === undefined ? 0 : uint32(options.expires, 'expires');
          if (op.expires === NO_CREATE) {
            throw new MemcacheError(ErrorCode.BAD_ARGUMENT, 'expires 0xFFFFFFFF means "do not create"; use another');
          }
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.dispatch(op, options);
  }

  private withExpires<T>(op: Operation, expires: number, options: CallOptions | undefined): Promise<T> {
    try {
      op.expires = uint32(expires, 'expires');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.dispatch(op, options);
  }

  private dispatch<T>(op: Operation, options: CallOptions | undefined): Promise<T> {
    const promise = promiseOf<T>(op);
    let signal: AbortSignal | undefined;
    try {
      signal = options === undefined ? undefined : abortSignal(options.signal);
    } catch (error) {
      op.fail(error as Error);
      return promise;
    }
    if (this.closed) op.fail(clientClosed());
    else if (op.watch(signal)) this.route(op);
    return promise;
  }

  /** Sends a single-key operation to the server that holds its key. */
  private route(op: Operation): void {
    let pool: Pool;
    try {
      if (this.pools.length === 1) pool = this.pools[0]!;
      else {
        const index = this.ring.pick(op.key);
        if (index < 0) {
          op.fail(new MemcacheError(ErrorCode.NO_SERVERS, 'every server of the group is ejected'));
          return;
        }
        pool = this.pools[index]!;
      }
      // A down server fails fast, but bad input still gets its own error first.
      if (pool.isDown) checkKey(op.key);
    } catch (error) {
      op.fail(error as Error);
      return;
    }
    pool.send(op);
  }

  /** Runs one operation per server; resolves to each server's answer by host:port. */
  private async everyServer<T>(make: () => Operation): Promise<Map<string, T>> {
    const answers = await Promise.all(
      this.pools.map((pool) => {
        const op = make();
        const promise = promiseOf<T>(op);
        if (this.closed) op.fail(clientClosed());
        else pool.send(op);
        return promise;
      }),
    );
    const byServer = new Map<string, T>();
    this.pools.forEach((pool, i) => byServer.set(pool.address, answers[i]!));
    return byServer;
  }
}

function clientClosed(): MemcacheError {
  return new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed');
}

/** In a multi-get, a server's failure makes its keys misses; the caller's own doing still rejects. */
function missUnlessCallerError(error: MemcacheError): void {
  if (error.code === ErrorCode.ABORTED || error.code === ErrorCode.CLIENT_CLOSED || error.code === ErrorCode.BAD_KEY) {
    throw error;
  }
}

function setCas(op: Operation, cas: unknown): void {
  const token = casToken(cas);
  op.casHi = Number(token >> 32n);
  op.casLo = Number(token & 0xffffffffn);
}
