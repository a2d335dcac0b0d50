// End-to-end throughput on one connection to one local memcached, 64
// requests in flight, 100-byte values: memring against a raw socket sending
// prebuilt frames (the ceiling) and memjs, measured in the same run.
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { Group } from '../lib/index.js';
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

function getFrame(key: string, opaque: number): Buffer {
  const k = Buffer.from(key);
  const frame = Buffer.alloc(24 + k.length);
  frame[0] = 0x80;
  frame.writeUInt16BE(k.length, 2);
  frame.writeUInt32BE(k.length, 8);
  frame.writeUInt32BE(opaque, 12);
  k.copy(frame, 24);
  return frame;
}

/** A raw socket keeping IN_FLIGHT prebuilt GETs in flight; counts replies by their length fields. */
function rawGets(port: number, ops: number): Promise<number> {
  const frame = getFrame(KEY, 1);
  const batch = Buffer.concat(Array.from({ length: IN_FLIGHT }, () => frame));
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let sent = 0;
    let done = 0;
    let pending: Buffer = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(batch);
      sent = IN_FLIGHT;
    });
    socket.on('data', (chunk: Buffer) => {
      let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      let replies = 0;
      while (buf.length - at >= 24) {
        const total = 24 + buf.readUInt32BE(at + 8);
        if (buf.length - at < total) break;
        at += total;
        replies++;
      }
      pending = buf.subarray(at);
      done += replies;
      if (done >= ops) {
        socket.destroy();
        resolve(ops);
        return;
      }
      const more = Math.min(replies, ops - sent);
      if (more > 0) {
        socket.write(more === IN_FLIGHT ? batch : batch.subarray(0, more * frame.length));
        sent += more;
      }
    });
  });
}

// One server thread: a single connection is served by one thread anyway.
const server = await MemcachedServer.start({ args: ['-t', '1'] });
const group = new Group([server.address]);
const client = memjs.Client.create(server.address, { logger: { log() {} } });
await group.set(KEY, VALUE);

const gets = await interleaved([
  ['raw socket, prebuilt GET frames', () => rawGets(server.port, OPS)],
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
