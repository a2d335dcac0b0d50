/**
 * Ring: which server holds a key, decided exactly as libmemcached decides it,
 * so memring shares a cache with PHP, pylibmc and OpenSIPS (the three
 * distributions are in shared/reference/distribution.md). Where libmemcached
 * leaves a choice, memring does what it does (spec/hash/vectors shows it):
 * - servers keep the configured order (no SORT_HOSTS);
 * - an IPv6 host is labelled without brackets (`::1:11212-0`), as pylibmc and
 *   PHP hand it to libmemcached;
 * - `eject` rebuilds the continuum from the live servers, as AUTO_EJECT_HOSTS /
 *   REMOVE_FAILED_SERVERS do; `modula` ignores ejection (hash % every server),
 *   so a key may map to a server that is down.
 */

import { ErrorCode, MemcacheError } from '../errors.js';
import type { Continuum } from './continuum.js';
import { isKeyHash, KEY_HASHES, keyHashFunction, type KeyHash, type KeyHashFunction } from './key-hash.js';
import { CONSISTENT_POINTS_PER_SERVER, ketamaPointCount } from './point-counts.js';
import { PointPool } from './point-pool.js';
import { ServerPoints } from './server-points.js';
import { labelPrefix, serverIdentity, toServer, type Server, type ServerInput } from './server.js';

/**
 * - `ketama`: MD5 points weighted by server weight, MD5 key hash (libmemcached
 *   KETAMA_WEIGHTED, PHP's LIBKETAMA_COMPATIBLE, libketama, npm hashring).
 * - `libmemcached-consistent`: one-at-a-time key hash; 100 one-at-a-time points
 *   per server when every weight is 1, else the weighted MD5 points of `ketama`.
 * - `modula`: one-at-a-time(key) % server count, weights ignored (libmemcached's
 *   default, and OpenSIPS's).
 * One-at-a-time above is the default key hash: RingOptions.hash picks another.
 */
export type Distribution = 'ketama' | 'libmemcached-consistent' | 'modula';

export interface RingOptions {
  /** Default `ketama`. */
  distribution?: Distribution | undefined;
  /**
   * The key hash (libmemcached's MEMCACHED_BEHAVIOR_HASH, PHP's OPT_HASH).
   * Default `md5` in `ketama`, `one-at-a-time` in the others. It hashes the
   * keys and, in unweighted `libmemcached-consistent`, the continuum labels;
   * weighted points are MD5 whatever it is, as in libmemcached (so `ketama`
   * with another hash is PHP's LIBKETAMA_COMPATIBLE with OPT_HASH set after it).
   */
  hash?: KeyHash | undefined;
}

const DISTRIBUTIONS: readonly Distribution[] = ['ketama', 'libmemcached-consistent', 'modula'];
// Owners are kept in a Uint16Array.
const MAX_SERVERS = 0x10000;

// What the continuum is made of.
const NO_POINTS = 0; // modula
const WEIGHTED_MD5_POINTS = 1;
const KEY_HASH_POINTS = 2; // 100 per server, hashed with the key hash
type PointKind = typeof NO_POINTS | typeof WEIGHTED_MD5_POINTS | typeof KEY_HASH_POINTS;

function badConfig(message: string, server?: string): never {
  throw new MemcacheError(ErrorCode.BAD_CONFIG, message, { server });
}

export class Ring {
  /** The servers, checked, in the order given; `pick` returns indexes into this list. */
  readonly servers: readonly Server[];
  readonly distribution: Distribution;
  readonly hash: KeyHash;

  readonly #keyHash: KeyHashFunction;
  readonly #pointKind: PointKind;
  readonly #serverPoints: readonly ServerPoints[];
  readonly #live: Uint8Array;
  #liveCount: number;
  // Every server's points, sorted; undefined in modula.
  #pool: PointPool | undefined;
  // undefined in modula and when no server is live.
  #continuum: Continuum | undefined;
  readonly #pointCounts: Uint32Array;

  constructor(servers: readonly ServerInput[], options: RingOptions = {}) {
    if (options === null || typeof options !== 'object') badConfig('ring options must be an object');
    const distribution = options.distribution ?? 'ketama';
    if (!DISTRIBUTIONS.includes(distribution)) {
      badConfig(`unknown distribution "${String(distribution)}"; use ${DISTRIBUTIONS.join(', ')}`);
    }
    const hash = options.hash ?? (distribution === 'ketama' ? 'md5' : 'one-at-a-time');
    if (!isKeyHash(hash)) badConfig(`unknown hash "${String(hash)}"; use ${KEY_HASHES.join(', ')}`);
    if (!Array.isArray(servers) || servers.length === 0) badConfig('a ring needs at least one server');
    if (servers.length > MAX_SERVERS) badConfig(`a ring holds at most ${MAX_SERVERS} servers`);

    const checked = servers.map(toServer);
    const seen = new Set<string>();
    for (const server of checked) {
      const identity = serverIdentity(server);
      if (seen.has(identity)) badConfig('server listed twice', server.address);
      seen.add(identity);
    }

    this.servers = Object.freeze(checked);
    this.distribution = distribution;
    this.hash = hash;
    this.#keyHash = keyHashFunction(hash);
    this.#pointKind =
      distribution === 'modula'
        ? NO_POINTS
        : distribution === 'ketama' || checked.some((server) => server.weight !== 1)
          ? WEIGHTED_MD5_POINTS
          : KEY_HASH_POINTS;
    this.#serverPoints = checked.map((server) => new ServerPoints(labelPrefix(server), this.#keyHash));
    this.#live = new Uint8Array(checked.length).fill(1);
    this.#liveCount = checked.length;
    this.#pointCounts = new Uint32Array(checked.length);
    this.#rebuild();
  }

  /**
   * Index (into `servers`) of the server that holds `key`, hashed as its UTF-8
   * bytes; -1 when every server is ejected. In `ketama` and
   * `libmemcached-consistent` that is always a live server. In `modula` it is
   * the key's own server even when ejected, as in libmemcached: check `isLive`.
   */
  pick(key: string | Uint8Array): number {
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw new MemcacheError(ErrorCode.BAD_KEY, 'a key must be a string or a Uint8Array');
    }
    if (this.#liveCount === 0) return -1;
    const count = this.servers.length;
    // libmemcached does not hash at all with one server.
    if (count === 1) return 0;
    const hash = this.#keyHash(key);
    const continuum = this.#continuum;
    return continuum === undefined ? hash % count : continuum.ownerOf(hash);
  }

  /** Whether server `index` takes keys (not ejected). */
  isLive(index: number): boolean {
    return this.#live[this.#checkIndex(index)] === 1;
  }

  /** Number of servers not ejected. */
  get liveCount(): number {
    return this.#liveCount;
  }

  /** Points server `index` holds on the continuum now (0 when ejected, 0 in `modula`). */
  pointCount(index: number): number {
    return this.#pointCounts[this.#checkIndex(index)]!;
  }

  /**
   * Takes server `index` off the ring, as libmemcached's REMOVE_FAILED_SERVERS
   * does: the continuum is rebuilt from the live servers, with `ketama`
   * weights renormalised over them. No-op when already ejected.
   */
  eject(index: number): void {
    this.#setLive(this.#checkIndex(index), 0);
  }

  /** Puts server `index` back; the placement is then exactly the original one. */
  restore(index: number): void {
    this.#setLive(this.#checkIndex(index), 1);
  }

  /** Sets which servers are live in one rebuild: `live[i]` for server `i`. */
  setLive(live: ArrayLike<boolean>): void {
    if (live === null || typeof live !== 'object' || live.length !== this.servers.length) {
      throw new MemcacheError(ErrorCode.BAD_ARGUMENT, `setLive takes one boolean per server (${this.servers.length})`);
    }
    let changed = false;
    for (let i = 0; i < this.servers.length; i++) {
      const flag = live[i] ? 1 : 0;
      if (this.#live[i] !== flag) {
        this.#live[i] = flag;
        changed = true;
      }
    }
    if (changed) this.#rebuild();
  }

  #setLive(index: number, flag: 0 | 1): void {
    if (this.#live[index] === flag) return;
    this.#live[index] = flag;
    this.#rebuild();
  }

  #checkIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.servers.length) {
      throw new MemcacheError(ErrorCode.BAD_ARGUMENT, `no server at index ${String(index)}`);
    }
    return index;
  }

  #rebuild(): void {
    const servers = this.servers;
    let liveCount = 0;
    let liveWeight = 0;
    for (let i = 0; i < servers.length; i++) {
      if (this.#live[i] === 1) {
        liveCount++;
        liveWeight += servers[i]!.weight;
      }
    }
    this.#liveCount = liveCount;
    this.#pointCounts.fill(0);
    this.#continuum = undefined;
    if (this.#pointKind === NO_POINTS || liveCount === 0) return;

    let total = 0;
    let poolHoldsThem = this.#pool !== undefined;
    for (let i = 0; i < servers.length; i++) {
      if (this.#live[i] !== 1) continue;
      const count =
        this.#pointKind === WEIGHTED_MD5_POINTS
          ? ketamaPointCount(servers[i]!.weight, liveWeight, liveCount)
          : CONSISTENT_POINTS_PER_SERVER;
      this.#pointCounts[i] = count;
      total += count;
      if (poolHoldsThem && !this.#pool!.holds(i, count)) poolHoldsThem = false;
    }
    // A server needs more points than ever before (weights renormalised after
    // ejections): hash the new labels and sort the pool again. Rare.
    if (!poolHoldsThem) {
      const counts = this.#pointCounts;
      this.#pool = new PointPool(
        this.#serverPoints.map((points, i) =>
          this.#pointKind === WEIGHTED_MD5_POINTS ? points.md5(counts[i]!) : points.keyHashed(),
        ),
      );
    }
    this.#continuum = this.#pool!.select(this.#pointCounts, total);
  }
}
