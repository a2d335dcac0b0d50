// Flat cost from 1 to N servers. For 1, 4 and 8 servers, 64 gets in flight
// spread over the servers by the ring, against the raw ceiling in the same
// shape (one plain socket per server keeping 64/N prebuilt requests in
// flight), over both protocols, with the Node process's CPU per get. Then
// getMulti of 100 keys over 4 servers against its raw ceiling (prebuilt
// GETKQ + NOOP frames, or `mg ... q` lines + `mn`), and 1 in flight: the
// round trip's median against a raw socket's.
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { Group } from '../lib/index.js';
import { rawGets, type RawTarget } from '../lib/cli/raw.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleavedWithCpu, report, ROUNDS, type CpuMeasurement } from './harness.js';

const require = createRequire(import.meta.url);
type Callback<T> = (error: Error | undefined, value: T) => void;
interface ThirdEden {
  set(key: string, value: string, lifetime: number, callback: Callback<boolean>): void;
  getMulti(keys: string[], callback: Callback<Record<string, string>>): void;
  end(): void;
}
const Memcached = require('memcached') as new (servers: string[], options?: object) => ThirdEden;

const VALUE = 'v'.repeat(100);
const OPS = Number(process.env['OPS'] ?? 100_000);
const BATCHES = Number(process.env['BATCHES'] ?? 300);
const PROTOCOLS = ['meta', 'binary'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const servers: MemcachedServer[] = [];
for (let i = 0; i < 8; i++) servers.push(await MemcachedServer.start({ args: ['-t', '1'] }));
const addresses = servers.map((s) => s.address);

// ---- 64 in flight over 1, 4 and 8 servers ----

const SPREAD = Array.from({ length: 1024 }, (_, i) => `bench:spread:${i}`);

interface Shape {
  servers: number;
  groups: Record<Protocol, Group>;
  raw: Record<Protocol, RawTarget[]>;
}
const shapes: Shape[] = [];
for (const count of [1, 4, 8]) {
  const list = addresses.slice(0, count);
  const groups = { meta: new Group(list, { protocol: 'meta' }), binary: new Group(list, { protocol: 'binary' }) };
  await Promise.all(SPREAD.map((k) => groups.meta.set(k, VALUE)));
  const targets = (protocol: Protocol): RawTarget[] =>
    list.map((address) => {
      const [host, port] = address.split(':') as [string, string];
      const own = SPREAD.filter((k) => groups.meta.serverFor(k) === address);
      return { host, port: Number(port), keys: own, inFlight: 64 / count, protocol };
    });
  shapes.push({ servers: count, groups, raw: { meta: targets('meta'), binary: targets('binary') } });
}

let n = 0;
const cases: [string, () => Promise<number>][] = [];
for (const shape of shapes) {
  const plural = shape.servers === 1 ? 'server' : 'servers';
  for (const protocol of PROTOCOLS) {
    const group = shape.groups[protocol];
    cases.push([`raw ${protocol}, ${shape.servers} ${plural}`, () => rawGets(shape.raw[protocol], { ops: OPS }).then((r) => r.ops)]);
    cases.push([`memring ${protocol}, ${shape.servers} ${plural}`, () => inFlight(64, OPS, () => group.get(SPREAD[n++ & 1023]!))]);
  }
}
const spread = await interleavedWithCpu(cases);

console.log(`\n(64 gets in flight of 100-byte values, keys spread by the ring; raw keeps 64/N prebuilt requests on each of the N sockets; median of ${ROUNDS} interleaved rounds)`);
console.log('\n### 64 in flight over 1, 4 and 8 servers: memring against raw sockets in the same shape\n');
console.log('| servers | protocol | memring ops/s | raw ops/s | memring / raw | memring CPU ns/get | raw CPU ns/get | CPU memring / raw |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
const byName = new Map(spread.map((m) => [m.name, m]));
for (const shape of shapes) {
  const plural = shape.servers === 1 ? 'server' : 'servers';
  for (const protocol of PROTOCOLS) {
    const ours = byName.get(`memring ${protocol}, ${shape.servers} ${plural}`)!;
    const raw = byName.get(`raw ${protocol}, ${shape.servers} ${plural}`)!;
    console.log(
      `| ${shape.servers} | ${protocol} | ${fmt(ours.opsPerSec)} | ${fmt(raw.opsPerSec)} | ${(raw.nsPerOp / ours.nsPerOp).toFixed(2)} | ` +
        `${fmt(ours.cpuNsPerOp)} | ${fmt(raw.cpuNsPerOp)} | ${(ours.cpuNsPerOp / raw.cpuNsPerOp).toFixed(2)} |`,
    );
  }
}

// ---- getMulti of 100 keys over 4 servers ----

const four = shapes[1]!;
const keys = Array.from({ length: 100 }, (_, i) => `bench:multi:${i}`);
await Promise.all(keys.map((k) => four.groups.meta.set(k, VALUE)));
for (const protocol of PROTOCOLS) {
  const check = await four.groups[protocol].getMulti(keys);
  if (check.size !== keys.length) throw new Error(`memring getMulti (${protocol}) found ${check.size} of ${keys.length}`);
}
const thirdEden = new Memcached(addresses.slice(0, 4), { retries: 0, timeout: 5000 });
for (const k of keys) {
  // 3rd-Eden's own ring differs from libmemcached's: it stores the keys where it places them.
  await new Promise<void>((resolve, reject) => thirdEden.set(k, VALUE, 0, (e) => (e ? reject(e) : resolve())));
}
function thirdEdenGetMulti(): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => thirdEden.getMulti(keys, (e, data) => (e ? reject(e) : resolve(data))));
}

/**
 * The ceiling: one plain socket per server with its requests prebuilt (GETKQ
 * frames and a NOOP, or `mg <key> v f c k q` lines and `mn`), written at
 * once; a call ends when every socket has seen the end of its batch (the
 * NOOP's reply counted by bytes, or `MN\r\n` at the end of what came).
 */
interface RawMultiSocket {
  socket: Socket;
  request: Buffer;
  /** binary: bytes the batch's replies add up to. */
  expected: number;
  received: number;
  /** meta: the last 4 bytes seen. */
  tail: number;
  done: () => void;
}
async function rawMultiSockets(protocol: Protocol): Promise<RawMultiSocket[]> {
  const byServer = new Map<string, string[]>();
  for (const key of keys) {
    const server = four.groups.meta.serverFor(key)!;
    byServer.set(server, [...(byServer.get(server) ?? []), key]);
  }
  const sockets: RawMultiSocket[] = [];
  for (const [address, serverKeys] of byServer) {
    const parts: Buffer[] = [];
    let expected = 24; // the NOOP's reply
    for (const [i, key] of serverKeys.entries()) {
      if (protocol === 'meta') {
        parts.push(Buffer.from(`mg ${key} v f c k q\r\n`));
        continue;
      }
      const frame = Buffer.alloc(24 + Buffer.byteLength(key));
      frame[0] = 0x80; // request magic
      frame[1] = 0x0d; // GETKQ
      frame.writeUInt16BE(frame.length - 24, 2);
      frame.writeUInt32BE(frame.length - 24, 8);
      frame.writeUInt32BE(i, 12);
      frame.write(key, 24);
      parts.push(frame);
      expected += 24 + 4 + (frame.length - 24) + VALUE.length; // header, flags, key, value
    }
    if (protocol === 'meta') parts.push(Buffer.from('mn\r\n'));
    else {
      const noop = Buffer.alloc(24);
      noop[0] = 0x80;
      noop[1] = 0x0a;
      parts.push(noop);
    }
    const [host, port] = address.split(':') as [string, string];
    const socket = connect({ host, port: Number(port), noDelay: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    const raw: RawMultiSocket = { socket, request: Buffer.concat(parts), expected, received: 0, tail: 0, done: () => {} };
    const MN = 0x4d4e0d0a; // "MN\r\n"
    socket.on('data', (chunk: Buffer) => {
      if (protocol === 'meta') {
        for (let i = Math.max(0, chunk.length - 4); i < chunk.length; i++) raw.tail = ((raw.tail << 8) | chunk[i]!) >>> 0;
        if (raw.tail === MN) {
          raw.tail = 0;
          raw.done();
        }
        return;
      }
      raw.received += chunk.length;
      if (raw.received < raw.expected) return;
      raw.received -= raw.expected;
      raw.done();
    });
    sockets.push(raw);
  }
  return sockets;
}
const rawMulti = { meta: await rawMultiSockets('meta'), binary: await rawMultiSockets('binary') };
function rawGetMulti(sockets: RawMultiSocket[]): Promise<unknown> {
  return Promise.all(
    sockets.map(
      (raw) =>
        new Promise<void>((resolve) => {
          raw.done = resolve;
          raw.socket.write(raw.request);
        }),
    ),
  );
}
/** `batches` getMulti calls of the 100 keys, one after another; resolves to the keys fetched. */
async function sequentialBatches(run: () => Promise<unknown>, batches: number): Promise<number> {
  for (let i = 0; i < batches; i++) await run();
  return batches * keys.length;
}
const multi = await interleavedWithCpu([
  ['raw sockets, prebuilt mg lines + mn', () => sequentialBatches(() => rawGetMulti(rawMulti.meta), BATCHES)],
  ['memring getMulti, meta', () => sequentialBatches(() => four.groups.meta.getMulti(keys), BATCHES)],
  ['raw sockets, prebuilt GETKQ frames + NOOP', () => sequentialBatches(() => rawGetMulti(rawMulti.binary), BATCHES)],
  ['memring getMulti, binary', () => sequentialBatches(() => four.groups.binary.getMulti(keys), BATCHES)],
  ['memcached (3rd-Eden) getMulti', () => sequentialBatches(thirdEdenGetMulti, BATCHES / 5)],
]);
console.log(`\n(keys per second = 1e9 / ns per key; median of ${ROUNDS} interleaved rounds)`);
report('getMulti of 100 keys over 4 servers, one call at a time, ns per key', multi, 'memcached (3rd-Eden) getMulti');
const [rawMeta, oursMeta, rawBinary, oursBinary] = multi as [CpuMeasurement, CpuMeasurement, CpuMeasurement, CpuMeasurement];
console.log(
  `\nmemring getMulti reaches ${(rawMeta.nsPerOp / oursMeta.nsPerOp).toFixed(2)} of its raw ceiling over meta ` +
    `(CPU per key ${(oursMeta.cpuNsPerOp / rawMeta.cpuNsPerOp).toFixed(2)}x the raw sockets'), ` +
    `${(rawBinary.nsPerOp / oursBinary.nsPerOp).toFixed(2)} over binary (CPU ${(oursBinary.cpuNsPerOp / rawBinary.cpuNsPerOp).toFixed(2)}x).`,
);
for (const raw of [...rawMulti.meta, ...rawMulti.binary]) raw.socket.destroy();
thirdEden.end();

// ---- 1 in flight: the round trip ----

const ROUND_TRIPS = Number(process.env['ROUND_TRIPS'] ?? 5000);
const one = shapes[0]!;
await one.groups.meta.set('bench:one', VALUE);

/** A raw socket sending one prebuilt get at a time; resolves to each round trip in ns. */
async function rawRoundTrips(protocol: Protocol, count: number): Promise<number[]> {
  const [host, port] = addresses[0]!.split(':') as [string, string];
  const socket = connect({ host, port: Number(port), noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  let request: Buffer;
  let replyLength: number;
  if (protocol === 'meta') {
    request = Buffer.from('mg bench:one v f c\r\n');
    replyLength = -1; // ends with the value's \r\n after a "VA" line: counted below
  } else {
    const key = Buffer.from('bench:one');
    request = Buffer.alloc(24 + key.length);
    request[0] = 0x80;
    request.writeUInt16BE(key.length, 2);
    request.writeUInt32BE(key.length, 8);
    key.copy(request, 24);
    replyLength = 24 + 4 + VALUE.length;
  }
  // The meta reply's length, learnt from the first one (the CAS does not change between gets).
  if (replyLength < 0) {
    replyLength = await new Promise<number>((resolve) => {
      let seen = 0;
      const onData = (chunk: Buffer): void => {
        seen += chunk.length;
        if (chunk.subarray(-2).toString() === '\r\n' && seen > VALUE.length) {
          socket.off('data', onData);
          resolve(seen);
        }
      };
      socket.on('data', onData);
      socket.write(request);
    });
  }
  const times: number[] = [];
  await new Promise<void>((resolve) => {
    let received = 0;
    let started = process.hrtime.bigint();
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received < replyLength) return;
      received = 0;
      times.push(Number(process.hrtime.bigint() - started));
      if (times.length === count) return resolve();
      started = process.hrtime.bigint();
      socket.write(request);
    });
    socket.write(request);
  });
  socket.destroy();
  return times;
}
async function memringRoundTrips(group: Group, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    await group.get('bench:one');
    times.push(Number(process.hrtime.bigint() - started));
  }
  return times;
}
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const latency: { name: string; p50: number[]; p99: number[] }[] = [];
const runners: [string, () => Promise<number[]>][] = [];
for (const protocol of PROTOCOLS) {
  runners.push([`raw ${protocol} socket`, () => rawRoundTrips(protocol, ROUND_TRIPS)]);
  runners.push([`memring ${protocol}`, () => memringRoundTrips(one.groups[protocol], ROUND_TRIPS)]);
}
for (const [name] of runners) latency.push({ name, p50: [], p99: [] });
for (let round = 0; round <= ROUNDS; round++) {
  for (const [i, [, run]] of runners.entries()) {
    const times = (await run()).sort((a, b) => a - b);
    // Round 0 warms up.
    if (round === 0) continue;
    latency[i]!.p50.push(percentile(times, 0.5));
    latency[i]!.p99.push(percentile(times, 0.99));
  }
}
const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`\n### 1 in flight, 1 server: round trip of a get (${ROUND_TRIPS} per round, median of ${ROUNDS} interleaved rounds)\n`);
console.log('| case | p50 µs | p99 µs | p50 vs raw |');
console.log('|---|---:|---:|---:|');
for (let i = 0; i < latency.length; i += 2) {
  const raw = latency[i]!;
  const ours = latency[i + 1]!;
  for (const row of [raw, ours]) {
    console.log(`| ${row.name} | ${(median(row.p50) / 1000).toFixed(1)} | ${(median(row.p99) / 1000).toFixed(1)} | ${(median(row.p50) / median(raw.p50)).toFixed(2)}x |`);
  }
}

for (const shape of shapes) for (const protocol of PROTOCOLS) await shape.groups[protocol].close();
for (const s of servers) await s.stop();

function fmt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}
