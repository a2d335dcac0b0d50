import { ErrorCode, MemcacheError } from './errors.js';
import { isKeyHash, KEY_HASHES, type KeyHash } from './hash/key-hash.js';
import type { Distribution } from './hash/ring.js';
import { checkTextAuthCredentials, type SaslCredentials } from './net/credentials.js';
import { defaultTransport } from '#transport';
import { binaryCodec } from './protocol/binary/codec.js';
import type { CodecFactory } from './protocol/codec.js';
import { metaCodec } from './protocol/meta/codec.js';
import { textCodec } from './protocol/text/codec.js';
import type { PoolOptions } from './net/pool.js';
import type { TlsOptions, TransportFactory } from './net/transport.js';
import { resolveTranscoder, type TranscoderChoice } from './transcode/registry.js';
import type { Transcoder } from './transcode/transcoder.js';
import { describeType, milliseconds, optionsObject, positiveInteger } from './validate.js';
import { FlushQueue } from './net/flush-queue.js';

/** The wire protocols a Group speaks: see the README's "Protocols". */
export type Protocol = 'meta' | 'binary' | 'text';

const CODECS: Record<Protocol, CodecFactory> = { meta: metaCodec, binary: binaryCodec, text: textCodec };

export interface GroupOptions<T extends TranscoderChoice = 'raw'> {
  /**
   * The wire protocol: `'meta'` (default; memcached 1.6+, its proxy, ElastiCache
   * Serverless) or `'binary'` (servers before 1.6, hosted services that only take
   * binary SASL) or `'text'` (the classic text protocol: for twemproxy, mcrouter and
   * any memcached). The stored items are the same.
   */
  protocol?: Protocol;
  /** Milliseconds an operation may wait for its reply, connecting included. Default 1000. */
  timeout?: number;
  /** Milliseconds a connection attempt may take. Default 1000. */
  connectTimeout?: number;
  /** TCP keep-alive probe delay in ms. Default 10000. */
  keepAliveDelay?: number;
  /** Largest value accepted, in bytes; larger values are refused before sending. Default 1 MiB (memcached's -I). */
  maxValueSize?: number;
  /** How sockets are made. Default: node:net/node:tls, or cloudflare:sockets under the workerd condition. */
  transport?: TransportFactory;
  /** Key placement: `ketama` (default), `libmemcached-consistent` or `modula` (OpenSIPS's). */
  distribution?: Distribution;
  /**
   * The key hash, as libmemcached's OPT_HASH: `'one-at-a-time'` (default;
   * `'md5'` in `ketama`), `'md5'`, `'crc'` (python-memcache's, with `modula`),
   * `'fnv1_64'`, `'fnv1a_64'`, `'fnv1_32'`, `'fnv1a_32'`, `'hsieh'`, `'murmur'`
   * or `'jenkins'`. See the README's "Key placement".
   */
  hash?: KeyHash;
  /** Connections per server, at most 128. Default 1: one pipelined connection is the fastest (see the README). */
  connections?: number;
  /** Operations in flight per server before new ones are refused with MC_ERR_QUEUE_FULL. Default 10000. */
  maxQueueSize?: number;
  /**
   * Bytes of requests (values included) waiting on one server, queued or
   * unanswered, before new ones are refused with MC_ERR_QUEUE_FULL. Default 64 MiB.
   */
  maxQueueBytes?: number;
  /**
   * What happens to a failed server's keys. `'fail'` (default): the ring stays
   * as configured, and operations for its keys fail fast with MC_ERR_SERVER_DOWN
   * until it answers again. `'eject'`: after `failureLimit` failures in a row
   * it leaves the ring and its keys move to the next live server, until a probe
   * gets a reply (libmemcached's REMOVE_FAILED_SERVERS).
   */
  failover?: 'fail' | 'eject';
  /** Failures in a row before `'eject'` takes a server off the ring. Default 2. */
  failureLimit?: number;
  /**
   * A rejection's stack is the caller's chain of awaits (V8's async frames,
   * captured when a call fails, on a copy of the error), not the timer or socket
   * callback that found the failure. Default true: it costs a failing call
   * two promise reactions and a successful one nothing; false keeps the
   * callback's frames.
   */
  callerStacks?: boolean;
  /** First delay before a failed server is probed again, in ms; doubles per failed probe. Default 100. */
  retryDelay?: number;
  /** Cap on the probe delay, in ms. Default 2000. */
  maxRetryDelay?: number;
  /**
   * SASL PLAIN credentials (`memcached -S`). Every new connection, reconnects
   * included, authenticates before anything else is sent on it.
   */
  sasl?: SaslCredentials;
  /**
   * TLS (`memcached -Z`): `true` for the runtime's trusted CAs, or settings
   * (`ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). Certificates
   * are verified unless `rejectUnauthorized: false`.
   */
  tls?: TlsOptions | true;
  /**
   * `'elasticache'`: the one listed server is an ElastiCache (Memcached)
   * configuration endpoint; the ring is built from the nodes it lists, asked
   * now and every `discoveryInterval` ms, and rebuilt when its version grows.
   * Keys are placed by `ketama` over the nodes' host names. See the README's
   * "ElastiCache auto-discovery".
   */
  discovery?: 'elasticache';
  /** ms between two questions to the configuration endpoint (`discovery` only). Default 60000. */
  discoveryInterval?: number;
  /**
   * How values become bytes and flags and back, for sharing them with other
   * clients: `'raw'` (default: bytes as given, `flags` from each call), `'php'`,
   * `'python'`, `'json'`, `'kamailio'`, or any Transcoder (see the README's
   * "Sharing values with other clients"). It types what set/add/replace/cas
   * take and what `Item.data` is.
   */
  transcoder?: T;
}

const DEFAULT_PROTOCOL: Protocol = 'meta';

const DEFAULTS = {
  timeout: 1000,
  connectTimeout: 1000,
  keepAliveDelay: 10_000,
  maxValueSize: 1024 * 1024,
  connections: 1,
  maxQueueSize: 10_000,
  maxQueueBytes: 64 * 1024 * 1024,
  failureLimit: 2,
  retryDelay: 100,
  maxRetryDelay: 2000,
  discoveryInterval: 60_000,
};

/**
 * Options checked, with every default filled in.
 * @internal Group's own: kept out of the published declarations (stripInternal).
 */
export interface GroupSettings {
  /** What every server's pool is built with (host and port come from the ring). */
  pool: Omit<PoolOptions, 'host' | 'port'>;
  distribution: Distribution | undefined;
  hash: KeyHash | undefined;
  failover: 'fail' | 'eject';
  failureLimit: number;
  callerStacks: boolean;
  /** Set when the listed server is a configuration endpoint. */
  discovery: { kind: 'elasticache'; interval: number } | undefined;
  /** null for the default (raw): no transcoder runs. */
  transcoder: Transcoder<any, any> | null;
}

/**
 * Checks a Group's options (throwing MemcacheError) and fills in the defaults.
 * @internal
 */
export function resolveOptions(options: GroupOptions): GroupSettings {
  optionsObject(options, 'options');
  const number = (name: keyof typeof DEFAULTS, check: (v: unknown, n: string) => number): number =>
    options[name] === undefined ? DEFAULTS[name] : check(options[name], name);
  const failover = options.failover ?? 'fail';
  if (failover !== 'fail' && failover !== 'eject') {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `unknown failover "${String(failover)}"; use 'fail' or 'eject'`);
  }
  return {
    pool: {
      timeout: number('timeout', milliseconds),
      connectTimeout: number('connectTimeout', milliseconds),
      keepAliveDelay: number('keepAliveDelay', milliseconds),
      maxValueSize: number('maxValueSize', positiveInteger),
      connections: number('connections', connectionCount),
      maxQueueSize: number('maxQueueSize', positiveInteger),
      maxQueueBytes: number('maxQueueBytes', positiveInteger),
      retryDelay: number('retryDelay', milliseconds),
      maxRetryDelay: number('maxRetryDelay', milliseconds),
      transport: checkTransport(options.transport),
      codec: checkProtocol(options.protocol),
      sasl: checkSasl(options.sasl, options.protocol ?? DEFAULT_PROTOCOL),
      tls: checkTls(options.tls),
      // Every pool of the Group (discovered ones too) shares one write task.
      flushQueue: new FlushQueue(),
    },
    distribution: checkDistribution(options),
    hash: checkHash(options),
    failover,
    failureLimit: number('failureLimit', positiveInteger),
    callerStacks: checkBoolean(options.callerStacks, 'callerStacks', true),
    discovery: checkDiscovery(options, number('discoveryInterval', milliseconds)),
    // A Group<T> passes its GroupOptions<T>: the transcoder is any choice here.
    transcoder: resolveTranscoder((options as GroupOptions<TranscoderChoice>).transcoder),
  };
}

function checkBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new MemcacheError(ErrorCode.BAD_CONFIG, `${name} must be true or false, not ${describeType(value)}`);
  return value;
}

function checkDiscovery(options: GroupOptions, interval: number): GroupSettings['discovery'] {
  const discovery: unknown = options.discovery;
  if (discovery === undefined) {
    if (options.discoveryInterval !== undefined) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, "discoveryInterval needs discovery: 'elasticache'");
    }
    return undefined;
  }
  if (discovery !== 'elasticache') {
    const shown = typeof discovery === 'string' ? JSON.stringify(discovery.slice(0, 20)) : describeType(discovery);
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `unknown discovery ${shown}; use 'elasticache'`);
  }
  return { kind: discovery, interval };
}

/**
 * Discovered nodes come and go: ketama moves few keys when they do (AWS
 * recommends consistent hashing for ElastiCache), modula moves most. Another
 * distribution is refused, not silently replaced.
 */
function checkDistribution(options: GroupOptions): GroupSettings['distribution'] {
  if (options.discovery === undefined) return options.distribution;
  const distribution = options.distribution ?? 'ketama';
  if (distribution !== 'ketama') {
    throw new MemcacheError(
      ErrorCode.BAD_CONFIG,
      `discovery places keys by ketama; distribution ${JSON.stringify(String(distribution).slice(0, 30))} cannot be used with it`,
    );
  }
  return distribution;
}

/**
 * One pipelined connection already carries thousands of operations at once,
 * and memcached serves each connection on one of its few worker threads:
 * past a few per server, more only cost sockets and memory.
 */
const MAX_CONNECTIONS = 128;

function checkHash(options: GroupOptions): KeyHash | undefined {
  const hash: unknown = options.hash;
  if (hash === undefined) return undefined;
  if (!isKeyHash(hash)) {
    const shown = typeof hash === 'string' ? JSON.stringify(hash.slice(0, 30)) : describeType(hash);
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `unknown hash ${shown}; use ${KEY_HASHES.join(', ')}`);
  }
  // The discovered nodes' ring is ketama's, MD5 throughout: another hash would be ignored.
  if (options.discovery !== undefined && hash !== 'md5') {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `discovery places keys by ketama with md5; hash "${hash}" cannot be used with it`);
  }
  return hash;
}

function checkProtocol(protocol: unknown): CodecFactory {
  if (protocol === undefined) return CODECS[DEFAULT_PROTOCOL];
  if (protocol !== 'meta' && protocol !== 'binary' && protocol !== 'text') {
    const shown = typeof protocol === 'string' ? JSON.stringify(protocol.slice(0, 20)) : describeType(protocol);
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `unknown protocol ${shown}; use 'meta', 'binary' or 'text'`);
  }
  return CODECS[protocol];
}

function connectionCount(value: unknown, name: string): number {
  const count = positiveInteger(value, name);
  if (count > MAX_CONNECTIONS) {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `${name} is ${count}; at most ${MAX_CONNECTIONS} per server are allowed`);
  }
  return count;
}

function checkSasl(sasl: unknown, protocol: unknown): SaslCredentials | undefined {
  if (sasl === undefined) return undefined;
  const { username, password } = (sasl ?? {}) as Partial<SaslCredentials>;
  if (typeof username !== 'string' || username === '' || typeof password !== 'string') {
    // Never echo what was given: it may hold the password.
    throw new MemcacheError(ErrorCode.BAD_CONFIG, 'sasl must be { username: non-empty string, password: string }');
  }
  if (username.includes('\0') || password.includes('\0')) {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, 'sasl username and password cannot hold a NUL character');
  }
  if (protocol !== 'binary') checkTextAuthCredentials(username, password);
  return { username, password };
}

function checkTransport(transport: unknown): TransportFactory {
  if (transport === undefined) return defaultTransport;
  if (typeof transport !== 'function') {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, 'transport must be a function (options, events) => Transport');
  }
  return transport as TransportFactory;
}

// What each TLS setting may be; anything else is refused rather than silently ignored.
const PEM = 'a string or Uint8Array (PEM)';
const TLS_FIELDS: Record<keyof TlsOptions, [check: (value: unknown) => boolean, expected: string]> = {
  ca: [(v) => isPem(v) || (Array.isArray(v) && v.every(isPem)), `${PEM}, or an array of those`],
  cert: [isPem, PEM],
  key: [isPem, PEM],
  servername: [(v) => typeof v === 'string', 'a string'],
  rejectUnauthorized: [(v) => typeof v === 'boolean', 'a boolean'],
};

function isPem(value: unknown): boolean {
  return typeof value === 'string' || value instanceof Uint8Array;
}

function checkTls(tls: unknown): TlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  if (typeof tls !== 'object' || tls === null) throw new MemcacheError(ErrorCode.BAD_CONFIG, 'tls must be true or an object');
  for (const name of Object.keys(tls)) {
    const field = Object.hasOwn(TLS_FIELDS, name) ? TLS_FIELDS[name as keyof TlsOptions] : undefined;
    if (field === undefined) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, `unknown tls option ${JSON.stringify(name)}; use ${Object.keys(TLS_FIELDS).join(', ')}`);
    }
    const value = (tls as Record<string, unknown>)[name];
    // Never the value itself: a key's content must not reach a log.
    if (value !== undefined && !field[0](value)) {
      throw new MemcacheError(ErrorCode.BAD_CONFIG, `tls.${name} must be ${field[1]}, got ${describeType(value)}`);
    }
  }
  return tls as TlsOptions;
}
