// End to end against the other Node clients, in one run on one local
// memcached: memjs, memcached (3rd-Eden) and memcache (jaredwray), with one
// request in flight (latency-bound), 64 in flight (throughput) and getMulti
// of 100 keys. The cases of a row run interleaved, round after round, so a
// noisy moment hits every client alike; one table, memring's ratio to each.
import { createRequire } from 'node:module';
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleaved, ROUNDS, type Measurement } from './harness.js';

const require = createRequire(import.meta.url);

interface MemjsClient {
  get(key: string): Promise<{ value: Buffer | null }>;
  set(key: string, value: string, options?: object): Promise<boolean>;
  quit(): void;
}
const memjs = require('memjs') as { Client: { create(servers: string, options?: object): MemjsClient } };

type Callback<T> = (error: Error | undefined, value: T) => void;
interface ThirdEden {
  get(key: string, callback: Callback<string | undefined>): void;
  set(key: string, value: string, lifetime: number, callback: Callback<boolean>): void;
  getMulti(keys: string[], callback: Callback<Record<string, string>>): void;
  end(): void;
}
const Memcached = require('memcached') as new (servers: string | string[], options?: object) => ThirdEden;

interface JaredwrayClient {
  get(key: string): Promise<string | undefined>;
  gets(keys: string[]): Promise<Map<string, string>>;
  set(key: string, value: string): Promise<boolean>;
  quit(): Promise<void>;
}
// jaredwray memcache is ESM-only; a variable specifier keeps `tsc --noEmit` at the repo root
// from needing it (the peers are installed in bench/ only, by `npm run bench`).
const jaredwray = 'memcache';
const { Memcache } = (await import(jaredwray)) as unknown as {
  Memcache: new (options: { nodes: string[]; timeout?: number }) => JaredwrayClient;
};

const VALUE = 'v'.repeat(100);
const KEY = 'bench:compare:key';
const MULTI_KEYS = Array.from({ length: 100 }, (_, i) => `bench:compare:multi:${i}`);
// Operations per round: the slower clients do fewer, the ratio is per operation.
const SEQUENTIAL_OPS = Number(process.env['SEQUENTIAL_OPS'] ?? 5_000);
const OPS = Number(process.env['OPS'] ?? 100_000);
const BATCHES = Number(process.env['BATCHES'] ?? 300);

const server = await MemcachedServer.start();
const memring = new Group([server.address]);
const mj = memjs.Client.create(server.address, { logger: { log() {} } });
const eden = new Memcached(server.address, { retries: 0, timeout: 5000 });
const jw = new Memcache({ nodes: [server.address], timeout: 5000 });

const edenGet = (key: string): Promise<string | undefined> =>
  new Promise((resolve, reject) => eden.get(key, (e, v) => (e ? reject(e) : resolve(v))));
const edenGetMulti = (keys: string[]): Promise<Record<string, string>> =>
  new Promise((resolve, reject) => eden.getMulti(keys, (e, v) => (e ? reject(e) : resolve(v))));

// One server: every client finds every key where the others stored it.
for (const key of [KEY, ...MULTI_KEYS]) await memring.set(key, VALUE);

// Each client must really read the value, or its rate means nothing.
async function check(): Promise<void> {
  const values = [
    (await memring.get(KEY))?.text,
    (await mj.get(KEY)).value?.toString(),
    await edenGet(KEY),
    await jw.get(KEY),
  ];
  if (values.some((v) => v !== VALUE)) throw new Error(`a client read something else: ${JSON.stringify(values)}`);
  const sizes = [
    (await memring.getMulti(MULTI_KEYS)).size,
    (await Promise.all(MULTI_KEYS.map((k) => mj.get(k)))).filter((r) => r.value !== null).length,
    Object.keys(await edenGetMulti(MULTI_KEYS)).length,
    (await jw.gets(MULTI_KEYS)).size,
  ];
  if (sizes.some((n) => n !== MULTI_KEYS.length)) throw new Error(`a getMulti missed keys: ${sizes.join(', ')}`);
}
await check();

/** `batches` calls of `run` one after another; resolves to the keys fetched. */
async function batches(run: () => Promise<unknown>, count: number): Promise<number> {
  for (let i = 0; i < count; i++) await run();
  return count * MULTI_KEYS.length;
}

const CLIENTS = ['memring', 'memjs', 'memcached (3rd-Eden)', 'memcache (jaredwray)'] as const;

const rows: { name: string; unit: string; results: Measurement[] }[] = [];

rows.push({
  name: 'get, 1 in flight',
  unit: 'ops/s',
  results: await interleaved([
    ['memring', () => inFlight(1, SEQUENTIAL_OPS, () => memring.get(KEY))],
    ['memjs', () => inFlight(1, SEQUENTIAL_OPS, () => mj.get(KEY))],
    ['memcached (3rd-Eden)', () => inFlight(1, SEQUENTIAL_OPS, () => edenGet(KEY))],
    ['memcache (jaredwray)', () => inFlight(1, SEQUENTIAL_OPS, () => jw.get(KEY))],
  ]),
});

rows.push({
  name: 'get, 64 in flight',
  unit: 'ops/s',
  results: await interleaved([
    ['memring', () => inFlight(64, OPS, () => memring.get(KEY))],
    ['memjs', () => inFlight(64, OPS / 4, () => mj.get(KEY))],
    ['memcached (3rd-Eden)', () => inFlight(64, OPS / 10, () => edenGet(KEY))],
    ['memcache (jaredwray)', () => inFlight(64, OPS / 10, () => jw.get(KEY))],
  ]),
});

rows.push({
  name: 'set, 64 in flight',
  unit: 'ops/s',
  results: await interleaved([
    ['memring', () => inFlight(64, OPS, () => memring.set(KEY, VALUE))],
    ['memjs', () => inFlight(64, OPS / 4, () => mj.set(KEY, VALUE))],
    [
      'memcached (3rd-Eden)',
      () => inFlight(64, OPS / 10, () => new Promise((resolve, reject) => eden.set(KEY, VALUE, 0, (e, v) => (e ? reject(e) : resolve(v))))),
    ],
    ['memcache (jaredwray)', () => inFlight(64, OPS / 10, () => jw.set(KEY, VALUE))],
  ]),
});

rows.push({
  name: 'getMulti of 100 keys, one call at a time',
  unit: 'keys/s',
  results: await interleaved([
    ['memring', () => batches(() => memring.getMulti(MULTI_KEYS), BATCHES)],
    // memjs has no multi-get: 100 gets at once is what its users write.
    ['memjs', () => batches(() => Promise.all(MULTI_KEYS.map((k) => mj.get(k))), BATCHES / 5)],
    ['memcached (3rd-Eden)', () => batches(() => edenGetMulti(MULTI_KEYS), BATCHES / 5)],
    ['memcache (jaredwray)', () => batches(() => jw.gets(MULTI_KEYS), BATCHES / 5)],
  ]),
});

await check();

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`\n### memring against other clients, one local memcached, 100-byte values (median of ${ROUNDS} interleaved rounds)\n`);
console.log(`| case | ${CLIENTS.join(' | ')} |`);
console.log(`|---|${CLIENTS.map(() => '---:').join('|')}|`);
for (const row of rows) {
  const ours = row.results.find((r) => r.name === 'memring')!;
  const cells = CLIENTS.map((client) => {
    const result = row.results.find((r) => r.name === client)!;
    const rate = `${fmt(result.opsPerSec)} ${row.unit}`;
    return client === 'memring' ? `**${rate}**` : `${rate} (memring ${(ours.opsPerSec / result.opsPerSec).toFixed(2)}x)`;
  });
  console.log(`| ${row.name} | ${cells.join(' | ')} |`);
}
console.log(
  '\n"memring Nx": memring\'s rate divided by that client\'s, measured in the same rounds. ' +
    'memjs has no multi-get; its getMulti row is 100 gets issued at once.',
);

mj.quit();
eden.end();
await jw.quit();
await memring.close();
await server.stop();
