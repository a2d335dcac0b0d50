// What `#diagnostics` (package.json "imports") is outside Workers: the
// channels of node:diagnostics_channel, which Bun and Deno provide too.
// worker-channels.ts exports the same names for the `workerd` and `worker` conditions.
import { channel } from 'node:diagnostics_channel';
import { memringChannels } from './channel.js';

const channels = memringChannels(channel);

export const command = channels.command;
export const connect = channels.connect;
export const connectError = channels.connectError;
export const close = channels.close;
export const serverDown = channels.serverDown;
export const serverUp = channels.serverUp;
