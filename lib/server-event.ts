import type { MemcacheError } from './errors.js';

export type ServerEventType = 'server-down' | 'server-up' | 'server-ejected' | 'server-restored';

/**
 * A change in a server's health, dispatched on the Group:
 * `server-down` (it failed; its operations now fail fast), `server-up` (a
 * probe got a reply), `server-ejected` (taken off the ring, `failover:
 * 'eject'`), `server-restored` (back on the ring).
 */
export class ServerEvent extends Event {
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
