import { parseServer, type ServerAddress, type ServerInput } from './address.js';
import { ErrorCode, MemcacheError } from './errors.js';
import type { Item } from './item.js';
import { Connection, formatAddress } from './net/connection.js';
import { nodeTransport } from './net/node-transport.js';
import type { TransportFactory } from './net/transport.js';
import { Opcode } from './protocol/opcodes.js';
import { Kind, NO_CREATE, Operation, promiseOf } from './protocol/operation.js';
import { abortSignal, casToken, milliseconds, optionsObject, positiveInteger, uint32, uint64 } from './validate.js';

export interface GroupOptions {
  /** Milliseconds an operation may wait for its reply, connecting included. Default 1000. */
  timeout?: number;
  /** Milliseconds a connection attempt may take. Default 1000. */
  connectTimeout?: number;
  /** TCP keep-alive probe delay in ms. Default 10000. */
  keepAliveDelay?: number;
  /** Largest value accepted, in bytes; larger values are refused before sending. Default 1 MiB (memcached's -I). */
  maxValueSize?: number;
  /** How sockets are made. Default: node:net. */
  transport?: TransportFactory;
}

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

/** One memcached server of a group. */
interface Server {
  readonly address: ServerAddress;
  /** host:port */
  readonly name: string;
  readonly connection: Connection;
}

const DEFAULTS = {
  timeout: 1000,
  connectTimeout: 1000,
  keepAliveDelay: 10_000,
  maxValueSize: 1024 * 1024,
};

/**
 * A group of memcached servers behind one API. Each key lives on one server;
 * operations that concern every server (flush, version, stats) say which
 * answer came from where.
 */
export class Group {
  private readonly servers: readonly Server[];
  private closed = false;

  constructor(servers: readonly ServerInput[] | ServerInput, options: GroupOptions = {}) {
    optionsObject(options, 'options');
    const list = Array.isArray(servers) ? servers : [servers as ServerInput];
    if (list.length === 0) throw new MemcacheError(ErrorCode.BAD_CONFIG, 'a group needs at least one server');
    const timeout = options.timeout === undefined ? DEFAULTS.timeout : milliseconds(options.timeout, 'timeout');
    const connectTimeout =
      options.connectTimeout === undefined ? DEFAULTS.connectTimeout : milliseconds(options.connectTimeout, 'connectTimeout');
    const keepAliveDelay =
      options.keepAliveDelay === undefined ? DEFAULTS.keepAliveDelay : milliseconds(options.keepAliveDelay, 'keepAliveDelay');
    const maxValueSize =
      options.maxValueSize === undefined ? DEFAULTS.maxValueSize : positiveInteger(options.maxValueSize, 'maxValueSize');
    const transport = options.transport ?? nodeTransport;
    const seen = new Set<string>();
    this.servers = list.map((input) => {
      const address = parseServer(input);
      const name = formatAddress(address.host, address.port);
      if (seen.has(name)) throw new MemcacheError(ErrorCode.BAD_CONFIG, `server ${name} is listed twice`);
      seen.add(name);
      const connection = new Connection({
        host: address.host,
        port: address.port,
        timeout,
        connectTimeout,
        keepAliveDelay,
        maxValueSize,
        transport,
      });
      return { address, name, connection };
    });
    if (this.servers.length > 1) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, 'groups of more than one server are not supported yet');
    }
  }

  /** host:port of every server, in configured order. */
  get serverNames(): string[] {
    return this.servers.map((s) => s.name);
  }

  /** host:port of the server that holds `key`. */
  serverFor(key: string): string {
    return this.pick(key).name;
  }

  // ---- reads ----

  /** The item, or null on a miss. */
  get(key: string, options?: CallOptions): Promise<Item | null> {
    const op = new Operation(Kind.Get, Opcode.Get);
    op.key = key;
    return this.dispatch(op, options);
  }

  /** Items for the keys that exist; missing keys are absent from the map. */
  getMulti(keys: Iterable<string>, options?: CallOptions): Promise<Map<string, Item>> {
    if (typeof keys === 'string' || typeof (keys as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
      return Promise.reject(new MemcacheError(ErrorCode.BAD_ARGUMENT, 'getMulti takes an iterable of keys (an array, a Set...)'));
    }
    const list = Array.isArray(keys) ? (keys as string[]) : Array.from(keys);
    if (list.length === 0) return Promise.resolve(new Map());
    const op = new Operation(Kind.GetMulti, Opcode.GetKQ);
    op.keys = list;
    op.key = list[0]!;
    op.result = new Map<string, Item>();
    return this.dispatch(op, options);
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
    await Promise.all(this.servers.map((s) => s.connection.close()));
  }

  // ---- internals ----

  private pick(_key: string): Server {
    return this.servers[0]!;
  }

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
    if (this.closed) {
      op.fail(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed'));
    } else if (op.watch(signal)) {
      this.pick(op.key).connection.send(op);
    }
    return promise;
  }

  /** Runs one operation per server; resolves to each server's answer by host:port. */
  private async everyServer<T>(make: () => Operation): Promise<Map<string, T>> {
    const answers = await Promise.all(
      this.servers.map((server) => {
        const op = make();
        const promise = promiseOf<T>(op);
        if (this.closed) op.fail(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed'));
        else server.connection.send(op);
        return promise;
      }),
    );
    const byServer = new Map<string, T>();
    this.servers.forEach((server, i) => byServer.set(server.name, answers[i]!));
    return byServer;
  }
}

function setCas(op: Operation, cas: unknown): void {
  const token = casToken(cas);
  op.casHi = Number(token >> 32n);
  op.casLo = Number(token & 0xffffffffn);
}
