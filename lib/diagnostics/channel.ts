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

/** Every channel memring publishes on, by name: what `#diagnostics` exports. */
export interface MemringChannels {
  readonly command: CommandChannels;
  readonly connect: Channel;
  readonly connectError: Channel;
  readonly close: Channel;
  readonly serverDown: Channel;
  readonly serverUp: Channel;
}

/**
 * memring's channels made by `channel` (node:diagnostics_channel's, or a
 * silent one). The TracingChannel `memring:command` is made here from the
 * five names `tracingChannel('memring:command')` subscribes to (the same
 * objects), so that publishing needs no tracingChannel.
 */
export function memringChannels(channel: (name: string) => Channel): MemringChannels {
  return {
    command: {
      start: channel('tracing:memring:command:start'),
      end: channel('tracing:memring:command:end'),
      asyncStart: channel('tracing:memring:command:asyncStart'),
      asyncEnd: channel('tracing:memring:command:asyncEnd'),
      error: channel('tracing:memring:command:error'),
    },
    connect: channel('memring:connect'),
    connectError: channel('memring:connect-error'),
    close: channel('memring:close'),
    serverDown: channel('memring:server-down'),
    serverUp: channel('memring:server-up'),
  };
}
