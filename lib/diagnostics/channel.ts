/**
 * The part of a node:diagnostics_channel Channel memring uses. `#diagnostics`
 * (package.json "imports") is node:diagnostics_channel's channels outside
 * Workers (node-channels.ts); under `workerd` and `worker`, the runtime's own
 * when it has them (nodejs_compat), else silent ones (worker-channels.ts).
 */
export interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
  subscribe(listener: (message: unknown, name: string | symbol) => void): void;
  unsubscribe(listener: (message: unknown, name: string | symbol) => void): unknown;
}

/** The five channels of the TracingChannel `memring:command`. */
export interface CommandChannels {
  readonly start: Channel;
  readonly end: Channel;
  readonly asyncStart: Channel;
  readonly asyncEnd: Channel;
  readonly error: Channel;
}
