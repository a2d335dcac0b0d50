// What tracing costs: get throughput on one connection to one local memcached,
// 64 in flight, with nobody subscribed to memring:command and with an empty
// subscriber on all five of its channels (a context per call, five publishes),
// over each protocol, in interleaved rounds.
import { tracingChannel } from 'node:diagnostics_channel';
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleaved, report } from './harness.js';

const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 64);
const OPS = Number(process.env['OPS'] ?? 100_000);
const KEY = 'bench:diagnostics:key';

const server = await MemcachedServer.start({ args: ['-t', '1'] });
const meta = new Group([server.address], { protocol: 'meta' });
const binary = new Group([server.address], { protocol: 'binary' });
await meta.set(KEY, 'v'.repeat(100));

const channel = tracingChannel('memring:command');
const empty = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };

/** Runs the gets with the empty subscriber attached. */
async function subscribed(group: Group): Promise<number> {
  channel.subscribe(empty);
  try {
    return await inFlight(IN_FLIGHT, OPS, () => group.get(KEY));
  } finally {
    channel.unsubscribe(empty);
  }
}

const rows = await interleaved([
  ['get (meta), no subscriber', () => inFlight(IN_FLIGHT, OPS, () => meta.get(KEY))],
  ['get (meta), empty subscriber', () => subscribed(meta)],
  ['get (binary), no subscriber', () => inFlight(IN_FLIGHT, OPS, () => binary.get(KEY))],
  ['get (binary), empty subscriber', () => subscribed(binary)],
]);
report(`get with and without a memring:command subscriber, 1 connection, ${IN_FLIGHT} in flight`, rows, 'get (meta), no subscriber');
const rate = (name: string): number => rows.find((m) => m.name === name)!.opsPerSec;
console.log(
  `\nsubscribed / unsubscribed: meta ${(rate('get (meta), empty subscriber') / rate('get (meta), no subscriber')).toFixed(2)}, ` +
    `binary ${(rate('get (binary), empty subscriber') / rate('get (binary), no subscriber')).toFixed(2)}`,
);

await meta.close();
await binary.close();
await server.stop();
