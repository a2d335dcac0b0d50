// End-to-end throughput on one connection to one local memcached, 64
// requests in flight, 100-byte values: memring against a raw socket sending
// prebuilt frames (the ceiling) and memjs, measured in the same run.
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
const group = new Group([server.address]);
const client = memjs.Client.create(server.address, { logger: { log() {} } });
await group.set(KEY, VALUE);
// The ceiling: a plain socket keeping IN_FLIGHT prebuilt GETs in flight (the same one `memring bench --compare raw` uses).
const rawTarget = [{ host: server.host, port: server.port, keys: [KEY], inFlight: IN_FLIGHT }];

const gets = await interleaved([
  ['raw socket, prebuilt GET frames', () => rawGets(rawTarget, { ops: OPS }).then((r) => r.ops)],
  ['memring get', () => inFlight(IN_FLIGHT, OPS, () => group.get(KEY))],
  ['memjs get', () => inFlight(IN_FLIGHT, OPS / 4, () => client.get(KEY))],
]);
report(`get, 1 connection, ${IN_FLIGHT} in flight, 100-byte value (median of ${ROUNDS} interleaved rounds)`, gets, 'raw socket, prebuilt GET frames');
report('get vs memjs', gets.slice(1), 'memjs get');

const sets = await interleaved([
  ['memring set', () => inFlight(IN_FLIGHT, OPS, () => group.set(KEY, VALUE))],
  ['memjs set', () => inFlight(IN_FLIGHT, OPS / 4, () => client.set(KEY, VALUE))],
]);
report(`set, 1 connection, ${IN_FLIGHT} in flight, 100-byte value`, sets, 'memjs set');

client.quit();
await group.close();
await server.stop();
