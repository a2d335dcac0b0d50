/**
 * The ring and pools for a new cluster configuration. Keys are placed by
 * ketama over each node's host name (as libmemcached labels a server,
 * `hostname` or `hostname:port`): ElastiCache keeps a node's DNS name when it
 * replaces the node, and the IP may change, so a replaced node takes back its
 * own keys and no other key moves. Pools are matched by what they connect to
 * (ip, or hostname when the ip is empty, and port): a node that stays keeps
 * its pool, connections and health; a node whose address changed gets a new one.
 */

import { Ring } from '../hash/ring.js';
import type { Pool } from '../net/pool.js';
import type { ClusterNode } from './cluster-config.js';

export interface Membership {
  ring: Ring;
  /** One per node, in the ring's order (`ring.pick` indexes it). */
  pools: Pool[];
  /** Pools of nodes no longer listed: to close once their operations settle. */
  retired: Pool[];
  /** Nodes not in the previous configuration, and those gone from it, by address. */
  added: ClusterNode[];
  removed: ClusterNode[];
}

/** What a node is connected to. */
export function connectHost(node: ClusterNode): string {
  return node.ip === '' ? node.hostname : node.ip;
}

function poolKey(host: string, port: number): string {
  return `${host.toLowerCase()} ${port}`;
}

export function nextMembership(
  nodes: readonly ClusterNode[],
  previous: readonly ClusterNode[],
  current: readonly Pool[],
  makePool: (node: ClusterNode) => Pool,
): Membership {
  // Built first: a configuration the ring refuses changes nothing.
  const ring = new Ring(
    nodes.map((node) => ({ host: node.hostname, port: node.port })),
    { distribution: 'ketama' },
  );
  const kept = new Map<string, Pool>();
  for (const pool of current) kept.set(poolKey(pool.host, pool.port), pool);
  const pools = nodes.map((node) => {
    const key = poolKey(connectHost(node), node.port);
    const pool = kept.get(key);
    if (pool === undefined) return makePool(node);
    kept.delete(key);
    return pool;
  });
  const before = new Set(previous.map((node) => node.address));
  const after = new Set(nodes.map((node) => node.address));
  return {
    ring,
    pools,
    retired: [...kept.values()],
    added: nodes.filter((node) => !before.has(node.address)),
    removed: previous.filter((node) => !after.has(node.address)),
  };
}
