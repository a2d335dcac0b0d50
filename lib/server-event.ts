import type { MemcacheError } from './errors.js';

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

/** The Group's events, by name: what `addEventListener` types its listener with. */
export type GroupEventMap = { [K in ServerEventType]: ServerEvent };

/** A listener for a Group event: a function or an object with `handleEvent`, as EventTarget takes. */
export type GroupEventListener<K extends ServerEventType, This> =
  | ((this: This, event: GroupEventMap[K]) => void)
  | { handleEvent(event: GroupEventMap[K]): void };
