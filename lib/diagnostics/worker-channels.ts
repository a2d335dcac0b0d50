// What `#diagnostics` is under the `workerd` and `worker` conditions. Workers
// have node:diagnostics_channel only with nodejs_compat, and a bundler's
// conditions cannot tell that flag apart, so this file never imports it:
// it asks process.getBuiltinModule, which workerd offers with nodejs_compat
// (as Node does), once at load. Without it, the channels are silent: nobody
// can subscribe, and publishing is never attempted (hasSubscribers is false).
import { memringChannels, type Channel } from './channel.js';

interface DiagnosticsChannel {
  channel(name: string): Channel;
}

const silent: Channel = {
  hasSubscribers: false,
  publish() {},
  subscribe() {},
  unsubscribe() {
    return false;
  },
};

function builtin(): DiagnosticsChannel | null {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const module = runtime?.getBuiltinModule?.('node:diagnostics_channel') as DiagnosticsChannel | undefined;
    return typeof module?.channel === 'function' ? module : null;
  } catch {
    return null;
  }
}

const diagnostics = builtin();
const channel = (name: string): Channel => (diagnostics === null ? silent : diagnostics.channel(name));

/** True when the runtime gave node:diagnostics_channel (workerd with nodejs_compat); false when every channel is silent. */
export const traced = diagnostics !== null;

const channels = memringChannels(channel);

export const command = channels.command;
export const connect = channels.connect;
export const connectError = channels.connectError;
export const close = channels.close;
export const serverDown = channels.serverDown;
export const serverUp = channels.serverUp;
