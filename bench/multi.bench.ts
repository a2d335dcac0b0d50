// Several servers: getMulti of 100 keys over 4 servers against npm memcached
// (3rd-Eden) in the same run, and the 64-in-flight get rate with 1 server
// and with 4 (adding servers must not cost throughput per operation).
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { Group } from '../lib/index.js';
import { rawGets } from '../lib/cli/raw.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleaved, report, ROUNDS } from './harness.js';

const require = createRequire(import.meta.url);
type Callback<T> = (error: Error | undefined, value: T) => void;
interface ThirdEden {
  set(key: string, value: string, lifetime: number, callback: Callback<boolean>): void;
  getMulti(keys: string[], callback: Callback<Record<string, string>>): void;
  end(): void;
}
const Memcached = require('memcached') as new (servers: string[], options?: object) => ThirdEden;

const VALUE = 'v'.repeat(100);
const BATCHES = Number(process.env['BATCHES'] ?? 300);
const OPS = Number(process.env['OPS'] ?? 100_000);

const servers: MemcachedServer[] = [];
for (let i = 0; i < 4; i++) servers.push(await MemcachedServer.start({ args: ['-t', '1'], ...(process.env['PIN'] ? { cpu: 1 } : {}) }));
const addresses = servers.map((s) => s.address);
const group = new Group(addresses, { protocol: 'meta' });
const binaryGroup = new Group(addresses, { protocol: 'binary' });
const thirdEden = new Memcached(addresses, { retries: 0, timeout: 5000 });

const keys = Array.from({ length: 100 }, (_, i) => `bench:multi:${i}`);
// Each client stores the keys where it places them (3rd-Eden's own ring differs from libmemcached's).
await Promise.all(keys.map((k) => group.set(k, VALUE)));
for (const k of keys) {
  await new Promise<void>((resolve, reject) => thirdEden.set(k, VALUE, 0, (e) => (e ? reject(e) : resolve())));
}
const check = await group.getMulti(keys);
if (check.size !== keys.length) throw new Error(`memring getMulti found ${check.size} of ${keys.length}`);

function thirdEdenGetMulti(): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => thirdEden.getMulti(keys, (e, data) => (e ? reject(e) : resolve(data))));
}
const checkThird = await thirdEdenGetMulti();
if (Object.keys(checkThird).length !== keys.length) throw new Error('3rd-Eden getMulti missed keys');

/**
 * The ceiling: one plain socket per server with its GETKQ frames and a NOOP
 * prebuilt, written at once; a call ends when every socket has received the
 * byte count its hits add up to. What the servers and the loopback allow,
 * with no client around it.
 */
interface RawMultiSocket {
  socket: Socket;
  frames: Buffer;
  expected: number;
  received: number;
  done: () => void;
}
const rawMultiSockets: RawMultiSocket[] = [];
{
  const byServer = new Map<string, string[]>();
  for (const key of keys) {
    const server = group.serverFor(key)!;
    byServer.set(server, [...(byServer.get(server) ?? []), key]);
  }
  for (const [address, serverKeys] of byServer) {
    const frames: Buffer[] = [];
    let expected = 24; // the NOOP's reply
    for (const [i, key] of serverKeys.entries()) {
      const frame = Buffer.alloc(24 + Buffer.byteLength(key));
      frame[0] = 0x80; // request magic
      frame[1] = 0x0d; // GETKQ
      frame.writeUInt16BE(frame.length - 24, 2);
      frame.writeUInt32BE(frame.length - 24, 8);
      frame.writeUInt32BE(i, 12);
      frame.write(key, 24);
      frames.push(frame);
      expected += 24 + 4 + (frame.length - 24) + VALUE.length; // header, flags, key, value
    }
    const noop = Buffer.alloc(24);
    noop[0] = 0x80;
    noop[1] = 0x0a;
    frames.push(noop);
    const [host, port] = address.split(':') as [string, string];
    const socket = connect({ host, port: Number(port), noDelay: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    const raw: RawMultiSocket = { socket, frames: Buffer.concat(frames), expected, received: 0, done: () => {} };
    socket.on('data', (chunk: Buffer) => {
      raw.received += chunk.length;
      if (raw.received < raw.expected) return;
      raw.received -= raw.expected;
      raw.done();
    });
    rawMultiSockets.push(raw);
  }
}
function rawGetMulti(): Promise<unknown> {
  return Promise.all(
    rawMultiSockets.map(
      (raw) =>
        new Promise<void>((resolve) => {
          raw.done = resolve;
          raw.socket.write(raw.frames);
        }),
    ),
  );
}

/** `batches` getMulti calls of the 100 keys, one after another; resolves to the keys fetched. */
async function sequentialBatches(run: () => Promise<unknown>, batches: number): Promise<number> {
  for (let i = 0; i < batches; i++) await run();
  return batches * keys.length;
}

const multi = await interleaved([
  ['raw sockets, prebuilt GETKQ frames', () => sequentialBatches(rawGetMulti, BATCHES)],
  ['memring getMulti(100 keys, 4 servers), meta', () => sequentialBatches(() => group.getMulti(keys), BATCHES)],
  ['memring getMulti(100 keys, 4 servers), binary', () => sequentialBatches(() => binaryGroup.getMulti(keys), BATCHES)],
  ['memcached (3rd-Eden) getMulti', () => sequentialBatches(thirdEdenGetMulti, BATCHES / 5)],
]);
console.log(`\n(keys per second = 1e9 / ns per key; median of ${ROUNDS} interleaved rounds)`);
report('getMulti of 100 keys over 4 servers, one call at a time, ns per key', multi, 'memcached (3rd-Eden) getMulti');
const rawRow = multi[0]!;
const oursRow = multi[1]!;
const binaryRow = multi[2]!;
console.log(
  `\nmemring getMulti reaches ${(rawRow.nsPerOp / oursRow.nsPerOp).toFixed(2)}x of the raw GETKQ sockets' rate over meta, ` +
    `${(rawRow.nsPerOp / binaryRow.nsPerOp).toFixed(2)}x over binary; meta / binary: ${(binaryRow.nsPerOp / oursRow.nsPerOp).toFixed(2)}.`,
);

for (const raw of rawMultiSockets) raw.socket.destroy();

const CONCURRENT = 8;
const concurrent = await interleaved([
  [`memring getMulti, ${CONCURRENT} calls in flight`, () => inFlight(CONCURRENT, BATCHES, () => group.getMulti(keys)).then((n) => n * keys.length)],
  [`memcached (3rd-Eden) getMulti, ${CONCURRENT} calls in flight`, () => inFlight(CONCURRENT, BATCHES / 5, thirdEdenGetMulti).then((n) => n * keys.length)],
]);
report(`getMulti of 100 keys over 4 servers, ${CONCURRENT} calls in flight, ns per key`, concurrent, `memcached (3rd-Eden) getMulti, ${CONCURRENT} calls in flight`);

const one = new Group([addresses[0]!]);
await one.set('bench:one', VALUE);
const spread = Array.from({ length: 1024 }, (_, i) => `bench:spread:${i}`);
await Promise.all(spread.map((k) => group.set(k, VALUE)));
let n = 0;
// The same two shapes with raw sockets say what the machine itself allows:
// 64 in flight on one socket, and 16 on each of four (the spread of 64 random keys).
const rawTarget = (address: string, inFlightCount: number, targetKeys: string[]) => {
  const [host, port] = address.split(':') as [string, string];
  return { host, port: Number(port), keys: targetKeys, inFlight: inFlightCount };
};
const oneTarget = [rawTarget(addresses[0]!, 64, ['bench:one'])];
const fourTargets = addresses.map((a) => rawTarget(a, 16, spread.filter((k) => group.serverFor(k) === a)));
const rates = await interleaved([
  ['raw socket, 1 server, 64 in flight', () => rawGets(oneTarget, { ops: OPS }).then((r) => r.ops)],
  ['raw sockets, 4 servers, 16 in flight each', () => rawGets(fourTargets, { ops: OPS }).then((r) => r.ops)],
  ['get, 1 server, 64 in flight', () => inFlight(64, OPS, () => one.get('bench:one'))],
  ['get, 4 servers, 64 in flight', () => inFlight(64, OPS, () => group.get(spread[n++ & 1023]!))],
]);
report('64 in flight: 1 server against 4 (ratio near 1 = servers cost nothing per operation)', rates, 'get, 1 server, 64 in flight');

// Why the ratio is what it is: the Node process's own CPU time per get
// (user + system) in each shape. With 64 in flight over 4 sockets each read
// and write carries about a quarter of the operations, so system calls per
// operation go up; where Node shares two cores with four servers, that CPU is
// the rate.
async function cpuPerOp(call: () => Promise<unknown>): Promise<{ user: number; system: number }> {
  const before = process.cpuUsage();
  await inFlight(64, OPS, call);
  const used = process.cpuUsage(before);
  return { user: (used.user * 1000) / OPS, system: (used.system * 1000) / OPS };
}
const cpuOne = await cpuPerOp(() => one.get('bench:one'));
const cpuFour = await cpuPerOp(() => group.get(spread[n++ & 1023]!));
console.log('\n| Node CPU per get, ns | user | system |\n|---|---:|---:|');
console.log(`| 1 server, 64 in flight | ${cpuOne.user.toFixed(0)} | ${cpuOne.system.toFixed(0)} |`);
console.log(`| 4 servers, 64 in flight | ${cpuFour.user.toFixed(0)} | ${cpuFour.system.toFixed(0)} |`);

// Connections per server: is one pipelined connection the fastest?
const pools = [1, 2, 4].map((connections) => ({ connections, group: new Group([addresses[0]!], { connections }) }));
for (const { group: g } of pools) await g.set('bench:one', VALUE);
const byConnections = await interleaved(
  pools.map(({ connections, group: g }): [string, () => Promise<number>] => [
    `get, 1 server, ${connections} connection${connections > 1 ? 's' : ''}, 64 in flight`,
    () => inFlight(64, OPS, () => g.get('bench:one')),
  ]),
);
report('connections per server (the default is 1)', byConnections, 'get, 1 server, 1 connection, 64 in flight');
for (const { group: g } of pools) await g.close();

thirdEden.end();
await one.close();
await group.close();
await binaryGroup.close();
for (const s of servers) await s.stop();
