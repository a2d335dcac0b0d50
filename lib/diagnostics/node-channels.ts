// What `#diagnostics` (package.json "imports") is outside Workers: the
// channels of node:diagnostics_channel, which Bun and Deno provide too.
// worker-channels.ts exports the same names for the `workerd` and `worker` conditions.
import { channel } from 'node:diagnostics_channel';
import type { Channel, CommandChannels } from './channel.js';

/**
 * The TracingChannel `memring:command`: the channels
 * `diagnostics_channel.tracingChannel('memring:command')` subscribes to, made
 * here by name (the same objects) so that publishing needs no tracingChannel.
 */
export const command: CommandChannels = {
  start: channel('tracing:memring:command:start'),
  end: channel('tracing:memring:command:end'),
  asyncStart: channel('tracing:memring:command:asyncStart'),
  asyncEnd: channel('tracing:memring:command:asyncEnd'),
  error: channel('tracing:memring:command:error'),
};

export const connect: Channel = channel('memring:connect');
export const connectError: Channel = channel('memring:connect-error');
export const close: Channel = channel('memring:close');
export const serverDown: Channel = channel('memring:server-down');
export const serverUp: Channel = channel('memring:server-up');
