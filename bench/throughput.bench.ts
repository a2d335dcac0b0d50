// End-to-end throughput on one connection to one local memcached, 64
// requests in flight, 100-byte values: memring over meta and over binary
// against raw sockets sending prebuilt requests of each protocol (the
// ceilings) and memjs, measured in the same run.
import { createRequire } from 'node:module';
import { Group } from '../lib/index.js';
import { rawGets } from '../lib/cli/raw.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleaved, report, ROUNDS } from './harness.js';

const require = createRequire(import.meta.url);
const memjs = require('memjs') as {
  Client: { create(servers: string, options?: object): MemjsClient };
};
interface MemjsClient {
  get(key: string): Promise<{ value: Buffer | null }>;
  set(key: string, value: string | Buffer, options?: object): Promise<boolean>;
  quit(): void;
}

const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 64);
const OPS = Number(process.env['OPS'] ?? 100_000);
const KEY = 'bench:throughput:key';
const VALUE = 'v'.repeat(100);

// One server thread: a single connection is served by one thread anyway.
const server = await MemcachedServer.start({ args: ['-t', '1'] });
const group = new Group([server.address], { protocol: 'meta' });
const binary = new Group([server.address], { protocol: 'binary' });
const client = memjs.Client.create(server.address, { logger: { log() {} } });
await group.set(KEY, VALUE);
// The ceiling: a plain socket keeping IN_FLIGHT prebuilt GETs in flight (the same one `memring bench --compare raw` uses).
const rawBinary = [{ host: server.host, port: server.port, keys: [KEY], inFlight: IN_FLIGHT }];
// What an Item holds: the value, its flags and its CAS.
const rawMeta = [{ ...rawBinary[0]!, protocol: 'meta' as const }];

const gets = await interleaved([
  ['raw socket, prebuilt GET frames (binary)', () => rawGets(rawBinary, { ops: OPS }).then((r) => r.ops)],
  ['raw socket, prebuilt mg <key> v f c (meta)', () => rawGets(rawMeta, { ops: OPS }).then((r) => r.ops)],
  ['memring get (meta)', () => inFlight(IN_FLIGHT, OPS, () => group.get(KEY))],
  ['memring get (binary)', () => inFlight(IN_FLIGHT, OPS, () => binary.get(KEY))],
  ['memjs get', () => inFlight(IN_FLIGHT, OPS / 4, () => client.get(KEY))],
]);
report(`get, 1 connection, ${IN_FLIGHT} in flight, 100-byte value (median of ${ROUNDS} interleaved rounds)`, gets, 'raw socket, prebuilt GET frames (binary)');
const rate = (name: string): number => gets.find((m) => m.name === name)!.opsPerSec;
console.log(
  `\nmeta get / binary get: ${(rate('memring get (meta)') / rate('memring get (binary)')).toFixed(2)}; ` +
    `meta get / raw meta socket: ${(rate('memring get (meta)') / rate('raw socket, prebuilt mg <key> v f c (meta)')).toFixed(2)}; ` +
    `binary get / raw binary socket: ${(rate('memring get (binary)') / rate('raw socket, prebuilt GET frames (binary)')).toFixed(2)}`,
);
report('get vs memjs', gets.slice(2), 'memjs get');

const sets = await interleaved([
  ['memring set (meta)', () => inFlight(IN_FLIGHT, OPS, () => group.set(KEY, VALUE))],
  ['memring set (binary)', () => inFlight(IN_FLIGHT, OPS, () => binary.set(KEY, VALUE))],
  ['memjs set', () => inFlight(IN_FLIGHT, OPS / 4, () => client.set(KEY, VALUE))],
]);
report(`set, 1 connection, ${IN_FLIGHT} in flight, 100-byte value`, sets, 'memjs set');

client.quit();
await group.close();
await binary.close();
await server.stop();
