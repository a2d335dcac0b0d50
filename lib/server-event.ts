import type { MemcacheError } from './errors.js';
import type { ClusterNode } from './discovery/cluster-config.js';

export type ServerEventType = 'server-down' | 'server-up' | 'server-ejected' | 'server-restored';

/**
 * A change in a server's health, dispatched on the Group:
 * `server-down` (it failed; its operations now fail fast), `server-up` (a
 * probe got a reply), `server-ejected` (taken off the ring, `failover:
 * 'eject'`), `server-restored` (back on the ring).
 */
export class ServerEvent extends Event {
  declare readonly type: ServerEventType;

  constructor(
    type: ServerEventType,
    /** host:port */
    readonly server: string,
    /** Failures in a row so far (0 once up). */
    readonly failures: number,
    /** What went wrong, for down and ejected. */
    readonly error: MemcacheError | undefined,
  ) {
    super(type);
  }
}

/** The events of a group with `discovery` (see the README's "ElastiCache auto-discovery"). */
export type ClusterEventType = 'cluster-changed' | 'discovery-failed';

/** Every event a Group dispatches. */
export type GroupEventType = ServerEventType | ClusterEventType;

/**
 * `cluster-changed`: the configuration endpoint gave a higher version and the
 * ring was rebuilt from its nodes. Calls made from now on go only to `nodes`;
 * the `removed` nodes' connections close once their operations settle.
 */
export class ClusterChangedEvent extends Event {
  declare readonly type: 'cluster-changed';

  constructor(
    /** The configuration endpoint, host:port. */
    readonly endpoint: string,
    readonly version: number,
    /** The version replaced, or null for the first cluster. */
    readonly previousVersion: number | null,
    /** Every node of the ring now, in the endpoint's order. */
    readonly nodes: readonly ClusterNode[],
    readonly added: readonly ClusterNode[],
    readonly removed: readonly ClusterNode[],
  ) {
    super('cluster-changed');
  }
}

/**
 * `discovery-failed`: a question to the configuration endpoint failed
 * (unreachable, no answer in time, an answer that is not a valid
 * configuration). The last known cluster stays in use: `version` and `nodes`
 * say which (null and empty before the first).
 */
export class DiscoveryFailedEvent extends Event {
  declare readonly type: 'discovery-failed';

  constructor(
    readonly endpoint: string,
    readonly error: MemcacheError,
    readonly version: number | null,
    readonly nodes: readonly ClusterNode[],
  ) {
    super('discovery-failed');
  }
}

/** The Group's events, by name: what `addEventListener` types its listener with. */
export type GroupEventMap = { [K in ServerEventType]: ServerEvent } & {
  'cluster-changed': ClusterChangedEvent;
  'discovery-failed': DiscoveryFailedEvent;
};

/** A listener for a Group event: a function or an object with `handleEvent`, as EventTarget takes. */
export type GroupEventListener<K extends GroupEventType, This> =
  | ((this: This, event: GroupEventMap[K]) => void)
  | { handleEvent(event: GroupEventMap[K]): void };
