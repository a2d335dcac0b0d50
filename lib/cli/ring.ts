/**
 * memring ring: where keys go, without any network. Uses the same Ring as
 * the Group, so what it prints is where memring (and libmemcached) put keys.
 */
import { MemcacheError } from '../errors.js';
import type { KeyHash } from '../hash/key-hash.js';
import { Ring, type Distribution } from '../hash/ring.js';
import { parseServer } from '../hash/server.js';
import { checkKey } from '../key.js';
import {
  Exit,
  HASH_HELP,
  UsageError,
  checkServer,
  distribution,
  integer,
  keyHash,
  out,
  parseCommand,
  serverList,
} from './args.js';
import { percent, table } from './table.js';

export const RING_HELP = `Usage: memring ring [options] [KEY...]

Shows where keys live, as libmemcached places them. No network: nothing is
sent to the servers.

  memring ring -s a:11211,b:11211,c:11211 KEY...   the server of each key
  memring ring -s a,b,c                            each server's share (points, keys)
  memring ring -s a,b,c --add d:11211              what share of keys would move
  memring ring -s a,b,c --remove b                 ... and each server's share after

Options:
  -s, --servers LIST     comma-separated host:port list, in the order the other
                         clients list them (default 127.0.0.1:11211);
                         host:port:weight for ketama weights
  -d, --distribution D   ketama (default), libmemcached-consistent or modula
${HASH_HELP}
      --add SERVER       add this server (repeatable)
      --remove SERVER    remove this server (repeatable)
      --sample N         keys in the sample for shares and moves (default 100000)
      --json             print JSON: for keys, an array of { key, server }
  -h, --help             this help`;

/** One server's load in `ring --json` output. */
export interface Share {
  server: string;
  /** Points on the continuum; null in modula, which has none. */
  points: number | null;
  point_share: number | null;
  keys: number;
  key_share: number;
}

export async function ring(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({
    args,
    options: {
      servers: { type: 'string', short: 's' },
      distribution: { type: 'string', short: 'd' },
      hash: { type: 'string' },
      add: { type: 'string', multiple: true },
      remove: { type: 'string', multiple: true },
      sample: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    await out(`${RING_HELP}\n`);
    return Exit.OK;
  }
  const dist = distribution(values.distribution);
  const hash = keyHash(values.hash);
  const servers = serverList(values.servers);
  const before = makeRing(servers, dist, hash, '--servers');
  // The header names the hash only when --hash chose one.
  const placement = hash === undefined ? dist : `${dist} + ${hash}`;
  for (const key of positionals) {
    try {
      checkKey(key);
    } catch (error) {
      throw new UsageError(`${(error as MemcacheError).code}: ${(error as Error).message}: "${key}"`);
    }
  }
  const adds = (values.add ?? []).map((s) => checkServer(s, '--add'));
  const removes = (values.remove ?? []).map((s) => checkServer(s, '--remove'));
  const sample = integer('--sample', values.sample, 100_000, 1, 100_000_000);

  if (adds.length === 0 && removes.length === 0) {
    if (positionals.length > 0) {
      const placed = positionals.map((key) => ({ key, server: before.servers[before.pick(key)]!.address }));
      if (values.json) await out(`${JSON.stringify(placed, null, 2)}\n`);
      else {
        const width = Math.min(40, Math.max(...positionals.map((k) => k.length)));
        await out(placed.map(({ key, server }) => `${key.padEnd(width)}  ${server}\n`).join(''));
      }
      return Exit.OK;
    }
    const shares = sharesOf(before, sampleOwners(before, sample));
    const report = { distribution: dist, hash: before.hash, sample, servers: shares };
    if (values.json) await out(`${JSON.stringify(report, null, 2)}\n`);
    else await out(`${placement}, ${plural(servers.length, 'server')}, sample of ${sample.toLocaleString('en-US')} keys\n\n${shareTable(shares)}`);
    return Exit.OK;
  }

  const after = makeRing(changedList(servers, adds, removes), dist, hash, '--add/--remove');
  const ownersBefore = sampleOwners(before, sample);
  const ownersAfter = sampleOwners(after, sample);
  let moved = 0;
  for (let i = 0; i < sample; i++) {
    if (before.servers[ownersBefore[i]!]!.address !== after.servers[ownersAfter[i]!]!.address) moved++;
  }
  const ideal = idealMoved(before, after);
  const keys = positionals.map((key) => ({
    key,
    before: before.servers[before.pick(key)]!.address,
    after: after.servers[after.pick(key)]!.address,
  }));
  const sharesBefore = sharesOf(before, ownersBefore);
  const sharesAfter = sharesOf(after, ownersAfter);
  if (values.json) {
    const report = {
      distribution: dist,
      hash: before.hash,
      sample,
      added: adds.map((s) => parseServer(s).address),
      removed: removes.map((s) => parseServer(s).address),
      moved,
      moved_share: moved / sample,
      ideal_moved_share: ideal,
      before: sharesBefore,
      after: sharesAfter,
      ...(keys.length > 0 ? { keys } : {}),
    };
    await out(`${JSON.stringify(report, null, 2)}\n`);
    return Exit.OK;
  }
  const change = [...adds.map((s) => `+${parseServer(s).address}`), ...removes.map((s) => `-${parseServer(s).address}`)];
  const lines = [
    `${placement}, ${before.servers.length} → ${plural(after.servers.length, 'server')} (${change.join(', ')}), sample of ${sample.toLocaleString('en-US')} keys`,
    `moved: ${percent(moved / sample)} of the keys (${moved.toLocaleString('en-US')}); ideal: ${percent(ideal)}, the least the servers' intended shares allow`,
    '',
    'before',
    shareTable(sharesBefore),
    'after',
    shareTable(sharesAfter),
  ];
  if (keys.length > 0) {
    lines.push(
      table(
        ['key', 'before', 'after', ''],
        keys.map((k) => [k.key, k.before, k.after, k.before === k.after ? '' : 'moved']),
        'lll',
      ),
    );
  }
  await out(`${lines.join('\n')}`);
  return Exit.OK;
}

function makeRing(servers: string[], dist: Distribution, hash: KeyHash | undefined, option: string): Ring {
  try {
    return new Ring(servers, { distribution: dist, hash });
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
}

/** The server list after adding and removing; removals match on host:port, whatever the weight. */
function changedList(servers: string[], adds: string[], removes: string[]): string[] {
  const address = (s: string): string => parseServer(s).address.toLowerCase();
  let list = servers;
  for (const remove of removes) {
    const target = address(remove);
    if (!list.some((s) => address(s) === target)) throw new UsageError(`--remove ${remove}: not in --servers`);
    list = list.filter((s) => address(s) !== target);
  }
  for (const add of adds) {
    if (list.some((s) => address(s) === address(add))) throw new UsageError(`--add ${add}: already in the list`);
    list = [...list, add];
  }
  if (list.length === 0) throw new UsageError('--remove would leave no server');
  return list;
}

/** Owner index of `sample:0` ... `sample:N-1`: a fixed sample, so runs agree. */
function sampleOwners(ring: Ring, sample: number): Uint32Array {
  const owners = new Uint32Array(sample);
  for (let i = 0; i < sample; i++) owners[i] = ring.pick(`sample:${i}`);
  return owners;
}

function sharesOf(ring: Ring, owners: Uint32Array): Share[] {
  const counts = new Array<number>(ring.servers.length).fill(0);
  for (const owner of owners) counts[owner]!++;
  const modula = ring.distribution === 'modula';
  let totalPoints = 0;
  for (let i = 0; i < ring.servers.length; i++) totalPoints += ring.pointCount(i);
  return ring.servers.map((server, i) => ({
    server: server.address,
    points: modula ? null : ring.pointCount(i),
    point_share: modula ? null : ring.pointCount(i) / totalPoints,
    keys: counts[i]!,
    key_share: counts[i]! / owners.length,
  }));
}

/**
 * The share of keys that must move for every server to hold its intended
 * share before and after (weights in ketama and libmemcached-consistent,
 * equal shares in modula): the total variation distance between the two.
 */
function idealMoved(before: Ring, after: Ring): number {
  const intended = (ring: Ring): Map<string, number> => {
    const weight = (i: number): number => (ring.distribution === 'modula' ? 1 : ring.servers[i]!.weight);
    let total = 0;
    for (let i = 0; i < ring.servers.length; i++) total += weight(i);
    return new Map(ring.servers.map((s, i) => [s.address.toLowerCase(), weight(i) / total]));
  };
  const a = intended(before);
  const b = intended(after);
  let lost = 0;
  for (const [server, share] of a) lost += Math.max(0, share - (b.get(server) ?? 0));
  // 4 × (1/4 - 1/5) is 0.19999999999999996 in doubles.
  return Math.round(lost * 1e12) / 1e12;
}

const BAR_WIDTH = 30;

function shareTable(shares: Share[]): string {
  const top = Math.max(...shares.map((s) => s.key_share));
  return table(
    ['server', 'points', '%points', 'keys', '%keys', ''],
    shares.map((s) => [
      s.server,
      s.points === null ? '-' : String(s.points),
      s.point_share === null ? '-' : percent(s.point_share),
      s.keys.toLocaleString('en-US'),
      percent(s.key_share),
      '#'.repeat(top === 0 ? 0 : Math.round((s.key_share / top) * BAR_WIDTH)),
    ]),
    'lrrrrl',
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
