// What `#diagnostics` is under the `workerd` and `worker` conditions: channels
// nobody can subscribe to. Workers have node:diagnostics_channel only with
// nodejs_compat, and a bundler's conditions cannot tell that flag apart, so
// the Workers build never imports it (README, "Observability").
import type { Channel, CommandChannels } from './channel.js';

const silent: Channel = {
  hasSubscribers: false,
  publish() {},
  subscribe() {},
  unsubscribe() {
    return false;
  },
};

export const command: CommandChannels = { start: silent, end: silent, asyncStart: silent, asyncEnd: silent, error: silent };
export const connect: Channel = silent;
export const connectError: Channel = silent;
export const close: Channel = silent;
export const serverDown: Channel = silent;
export const serverUp: Channel = silent;
