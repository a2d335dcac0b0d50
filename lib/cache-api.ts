/**
 * CacheAPI: OpenSIPS's memcache functions (cache_store, cache_fetch,
 * cache_remove, cache_add, cache_sub, cache_counter_fetch) over named Groups,
 * configured with the group specs OpenSIPS users already write. Each method
 * is a few lines over one Group call; a miss is null, an error a typed
 * rejection, never an OpenSIPS return code.
 */

import { ErrorCode, MemcacheError } from './errors.js';
import { Group, type CallOptions, type GroupOptions } from './group.js';
import type { Item } from './item.js';
import type { TranscoderChoice } from './transcode/registry.js';
import { parseGroupSpec, shownText } from './group-spec.js';
import { disposeByClosing, type AsyncDisposableWhereTyped } from './dispose.js';
import { describeType, optionsObject } from './validate.js';

// str2sint's syntax: what cache_counter_fetch accepts, once decr's padding is gone.
const DECIMAL_INTEGER = /^-?[0-9]+$/;
const SPACE = 0x20;

/** `await using`, where the compiler knows Symbol.asyncDispose (see dispose.ts). */
export interface CacheAPI extends AsyncDisposableWhereTyped {}

export class CacheAPI {
  readonly #groups = new Map<string, Group<TranscoderChoice>>();
  readonly #options: GroupOptions<TranscoderChoice>;
  #closing: Promise<void> | null = null;

  static {
    // `await using cache = new CacheAPI(...)` closes every group.
    disposeByClosing(this.prototype);
  }

  /**
   * One Group per spec (`"name = host:port,..."` or
   * `"memcached[:group]://host:port,.../"`), each built with `options`.
   * Throws MemcacheError on a bad spec or a storage id given twice.
   */
  constructor(specs: readonly string[], options: GroupOptions<TranscoderChoice> = {}) {
    if (!Array.isArray(specs)) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, 'CacheAPI takes an array of group specs');
    }
    this.#options = options;
    for (const spec of specs) this.addServerGroup(spec);
  }

  /** Adds a group and returns its storage id. Throws MemcacheError (MC_ERR_BAD_CONFIG for an id already in use). */
  addServerGroup(spec: string): string {
    if (this.#closing !== null) throw new MemcacheError(ErrorCode.CLIENT_CLOSED, 'CacheAPI is closed');
    const { storageId, servers, username, password, tls, options } = parseGroupSpec(spec);
    if (this.#groups.has(storageId)) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, `storage id ${shownText(storageId)} is configured twice`);
    }
    let group: Group<TranscoderChoice>;
    try {
      group = new Group(servers, groupOptions(this.#options, username, password, tls, options['protocol']));
    } catch (error) {
      if (!(error instanceof MemcacheError)) throw error;
      throw new MemcacheError(error.code, `group ${shownText(storageId)}: ${error.message}`, { cause: error });
    }
    this.#groups.set(storageId, group);
    return storageId;
  }

  /** The storage ids of every group, in the order they were added. */
  get storageIds(): string[] {
    return [...this.#groups.keys()];
  }

  /**
   * cache_store: sets `value` as its UTF-8 bytes with flags 0 (or as the `transcoder` option
   * stores a string: 'kamailio' flags 1, 'php' compressed from 2000 bytes...); `expire` as memcached's (0 = never;
   * over 30 days an absolute Unix time, refused when that is past: see the Group's `expires`).
   * Every method takes a trailing `{ signal }`, passed to the group's call.
   */
  async store(id: string, key: string, value: string, expire = 0, options?: CallOptions): Promise<void> {
    const group = this.#group(id);
    if (typeof value !== 'string') {
      throw new MemcacheError(ErrorCode.BAD_VALUE, `cache_store value must be a string, got ${describeType(value)}`);
    }
    await group.set(key, value, withSignal({ expires: expire }, options));
  }

  /**
   * cache_fetch: the value decoded as UTF-8, or null on a miss. With a
   * `transcoder`, the value it decodes as text: a string as is, a number as
   * its decimal, a boolean as PHP prints it ("1" or ""), a structure as JSON.
   */
  async fetch(id: string, key: string, options?: CallOptions): Promise<string | null> {
    const item = await this.#group(id).get(key, options);
    return item === null ? null : textOf(item);
  }

  /** cache_remove: deletes the key; a missing key is fine. */
  async remove(id: string, key: string, options?: CallOptions): Promise<void> {
    await this.#group(id).delete(key, options);
  }

  /**
   * cache_add: adds `delta` and resolves to the new value. A missing key is
   * created holding `delta` (with `expire`), in the same atomic step.
   */
  async add(id: string, key: string, delta: number, expire = 0, options?: CallOptions): Promise<number> {
    return counterValue(await this.#group(id).incr(key, delta, withSignal({ initial: delta, expires: expire }, options)));
  }

  /**
   * cache_sub: subtracts `delta` (stopping at 0) and resolves to the new
   * value. A missing key is created holding 0 (with `expire`), atomically.
   */
  async sub(id: string, key: string, delta: number, expire = 0, options?: CallOptions): Promise<number> {
    return counterValue(await this.#group(id).decr(key, delta, withSignal({ initial: 0, expires: expire }, options)));
  }

  /**
   * cache_counter_fetch: the stored value as a number, or null on a miss.
   * Rejects with MC_ERR_NOT_NUMERIC when it is not a decimal integer.
   */
  async counterFetch(id: string, key: string, options?: CallOptions): Promise<number | null> {
    const group = this.#group(id);
    const item = await group.get(key, options);
    if (item === null) return null;
    const text = item.text;
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === SPACE) end--;
    const digits = text.slice(0, end);
    if (!DECIMAL_INTEGER.test(digits)) {
      // The value itself is never shown: errors end up in logs.
      throw new MemcacheError(ErrorCode.NOT_NUMERIC, `cache_counter_fetch in "${id}": the stored value is not a decimal integer`, {
        server: group.serverFor(key) ?? undefined,
      });
    }
    return Number(digits);
  }

  /** Closes every group (operations in flight settle first). Later calls reject with MC_ERR_CLIENT_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#groups.values()].map((group) => group.close())).then(() => undefined);
    return this.#closing;
  }

  #group(id: string): Group<TranscoderChoice> {
    if (typeof id !== 'string') {
      throw new MemcacheError(ErrorCode.BAD_ARGUMENT, `storage id must be a string, got ${describeType(id)}`);
    }
    const group = this.#groups.get(id);
    if (group === undefined) {
      const known = this.#groups.size === 0 ? 'none' : this.storageIds.join(', ');
      throw new MemcacheError(ErrorCode.BAD_ARGUMENT, `unknown storage id ${shownText(id)}; configured: ${known}`);
    }
    return group;
  }
}

/**
 * A group's options: the shared ones, with SASL credentials from its URL (else
 * the shared `sasl`), and TLS only for a `memcacheds:` group (with the shared
 * `tls` settings, else the runtime's CAs), so one CacheAPI can hold a private
 * plain group beside a public secured one.
 */
function groupOptions(
  shared: GroupOptions<TranscoderChoice>,
  username: string | undefined,
  password: string | undefined,
  tls: boolean,
  protocol: string | undefined,
): GroupOptions<TranscoderChoice> {
  const { tls: tlsSettings, ...plain } = shared;
  const options: GroupOptions<TranscoderChoice> = plain;
  if (username !== undefined) options.sasl = { username, password: password ?? '' };
  if (tls) options.tls = tlsSettings ?? true;
  // A URL's ?protocol=binary wins over the shared option; Group checks the name.
  if (protocol !== undefined) options.protocol = protocol as NonNullable<GroupOptions['protocol']>;
  return options;
}

/** A group call's own options with the caller's signal; the caller's options are checked as the Group checks them. */
function withSignal<T extends object>(own: T, options: CallOptions | undefined): T & CallOptions {
  optionsObject(options, 'options');
  const signal = options?.signal;
  return signal === undefined ? own : { ...own, signal };
}

/** cache_fetch's text of an item: its bytes as UTF-8 with the default transcoder, else what the transcoder decoded. */
function textOf(item: Item<unknown>): string {
  const data = item.data;
  if (data === item.value) return item.text;
  switch (typeof data) {
    case 'string':
      return data;
    case 'number':
    case 'bigint':
      return String(data);
    case 'boolean':
      return data ? '1' : '';
    default:
      if (data === null) return '';
      if (data instanceof Uint8Array) return utf8.decode(data);
      return JSON.stringify(data);
  }
}

const utf8 = new TextDecoder();

/** Counters are 64-bit; a JavaScript number is exact only up to 2^53. */
function counterValue(value: bigint | null): number {
  // incr/decr with an initial value always answer a number.
  if (value === null) throw new MemcacheError(ErrorCode.PROTOCOL, 'counter reply without a value');
  return Number(value);
}
