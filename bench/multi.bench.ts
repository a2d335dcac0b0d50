// Several servers: getMulti of 100 keys over 4 servers against npm memcached
// (3rd-Eden) in the same run, and the 64-in-flight get rate with 1 server
// and with 4 (adding servers must not cost throughput per operation).
import { createRequire } from 'node:module';
import { Group } from '../lib/index.js';
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
const group = new Group(addresses);
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

/** `batches` getMulti calls of the 100 keys, one after another; resolves to the keys fetched. */
async function sequentialBatches(run: () => Promise<unknown>, batches: number): Promise<number> {
  for (let i = 0; i < batches; i++) await run();
  return batches * keys.length;
}

const multi = await interleaved([
  ['memring getMulti(100 keys, 4 servers)', () => sequentialBatches(() => group.getMulti(keys), BATCHES)],
  ['memcached (3rd-Eden) getMulti', () => sequentialBatches(thirdEdenGetMulti, BATCHES / 5)],
]);
console.log(`\n(keys per second = 1e9 / ns per key; median of ${ROUNDS} interleaved rounds)`);
report('getMulti of 100 keys over 4 servers, one call at a time, ns per key', multi, 'memcached (3rd-Eden) getMulti');

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
const rates = await interleaved([
  ['get, 1 server, 64 in flight', () => inFlight(64, OPS, () => one.get('bench:one'))],
  ['get, 4 servers, 64 in flight', () => inFlight(64, OPS, () => group.get(spread[n++ & 1023]!))],
]);
report('64 in flight: 1 server against 4 (ratio near 1 = servers cost nothing per operation)', rates, 'get, 1 server, 64 in flight');

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
for (const s of servers) await s.stop();
