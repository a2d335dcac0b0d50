// What getOrSet costs on a hit next to a plain get: one connection to one
// local memcached, 64 in flight (the client's CPU is what limits), and one at
// a time (a caller's wait, the round trip included); each call on its own key
// (no two calls in flight share a key, so in-process sharing saves nothing),
// interleaved rounds, time and the client's CPU per operation.
// Target: getOrSet (meta) ≤ 1.1× the time of get (meta).
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleavedWithCpu, report } from './harness.js';

const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 64);
const OPS = Number(process.env['OPS'] ?? 100_000);
const KEYS = 4096;
const LATENCY_OPS = Math.max(1, Math.floor(OPS / 20));

const server = await MemcachedServer.start({ args: ['-t', '1'] });
const meta = new Group([server.address], { protocol: 'meta' });
const binary = new Group([server.address], { protocol: 'binary' });
const keys = Array.from({ length: KEYS }, (_, i) => `bench:gos:${i}`);
const value = 'v'.repeat(100);
for (const key of keys) await meta.set(key, value);

let next = 0;
const key = (): string => keys[next++ & (KEYS - 1)]!;
const never = (): string => {
  throw new Error('the bench keys are all hits');
};
const options = { expires: 3600 };

const rows = await interleavedWithCpu([
  ['get (meta)', () => inFlight(IN_FLIGHT, OPS, () => meta.get(key()))],
  ['getOrSet hit (meta)', () => inFlight(IN_FLIGHT, OPS, () => meta.getOrSet(key(), never, options))],
  ['get (binary)', () => inFlight(IN_FLIGHT, OPS, () => binary.get(key()))],
  ['getOrSet hit (binary)', () => inFlight(IN_FLIGHT, OPS, () => binary.getOrSet(key(), never, options))],
  // One at a time: what a caller waits for a hit, the round trip included.
  ['get (meta), 1 in flight', () => inFlight(1, LATENCY_OPS, () => meta.get(key()))],
  ['getOrSet hit (meta), 1 in flight', () => inFlight(1, LATENCY_OPS, () => meta.getOrSet(key(), never, options))],
]);
report(`getOrSet on a hit vs get, 1 connection, ${IN_FLIGHT} in flight, ${KEYS} keys`, rows, 'get (meta)');
const row = (name: string) => rows.find((m) => m.name === name)!;
const ratio = (field: 'nsPerOp' | 'cpuNsPerOp', protocol: string): string =>
  (row(`getOrSet hit (${protocol})`)[field] / row(`get (${protocol})`)[field]).toFixed(2);
console.log('\n| per op | get (meta) | getOrSet hit (meta) | get (binary) | getOrSet hit (binary) |\n|---|---:|---:|---:|---:|');
console.log(`| client CPU, ns | ${['get (meta)', 'getOrSet hit (meta)', 'get (binary)', 'getOrSet hit (binary)'].map((n) => row(n).cpuNsPerOp.toFixed(0)).join(' | ')} |`);
console.log(
  `\ngetOrSet hit / get, ${IN_FLIGHT} in flight: meta ${ratio('nsPerOp', 'meta')}× time, ${ratio('cpuNsPerOp', 'meta')}× client CPU; ` +
    `binary ${ratio('nsPerOp', 'binary')}× time, ${ratio('cpuNsPerOp', 'binary')}× client CPU. ` +
    `1 in flight (meta): ${(row('getOrSet hit (meta), 1 in flight').nsPerOp / row('get (meta), 1 in flight').nsPerOp).toFixed(2)}× time (target for meta: ≤ 1.10×)`,
);

await meta.close();
await binary.close();
await server.stop();
