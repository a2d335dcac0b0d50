// The binary-protocol codec against memjs's, in one process: encoding a GET and
// a 100-byte SET, decoding GET hits. memjs is driven through its own functions
// (utils.makeRequestBuffer, and Server.responseHandler as its socket 'data'
// listener calls it), doing per operation exactly what its Client and Server do.
import { createRequire } from 'node:module';

import { consume, measure, report, type Measurement } from './harness.js';
import { ResponseDecoder, type FrameHandler } from '../lib/protocol/binary/decoder.js';
import { Opcode } from '../lib/protocol/binary/opcodes.js';
import { RequestWriter } from '../lib/protocol/binary/writer.js';
import { MetaReader, type ReplyHandler } from '../lib/protocol/meta/reader.js';
import { MetaWriter, StoreMode } from '../lib/protocol/meta/writer.js';

// ---- memjs, as its Client and Server use it ------------------------------------

interface MemjsResponse {
  header: { opcode: number; status: number; opaque: number; totalBodyLength: number };
  key: Buffer;
  val: Buffer;
  extras: Buffer;
}
interface MemjsUtils {
  makeRequestBuffer(opcode: number, key: string | Buffer, extras: string | Buffer, value: string | Buffer, opaque: number): Buffer;
  makeExpiration(expiration: number): Buffer;
  parseMessage(data: Buffer): MemjsResponse | false;
}
interface MemjsSerializer {
  serialize(opcode: number, value: unknown, extras: Buffer): { value: string | Buffer; extras: Buffer };
  deserialize(opcode: number, value: Buffer, extras: Buffer): { value: Buffer; extras: Buffer };
}
interface MemjsServer {
  responseHandler(data: Buffer): void;
  onResponse(seq: number, callback: (response: MemjsResponse) => void): void;
}
type MemjsServerConstructor = new (host: string, port: number) => MemjsServer;

const require = createRequire(import.meta.url);
const memjsUtils = require('memjs/lib/memjs/utils') as MemjsUtils;
const { noopSerializer } = require('memjs/lib/memjs/noop-serializer') as { noopSerializer: MemjsSerializer };
const MemjsServer = (require('memjs/lib/memjs/server') as { Server: MemjsServerConstructor }).Server;

/** memjs Client#get: `makeRequestBuffer(0, key, '', '', seq)`. */
function memjsEncodeGet(key: string, seq: number): Buffer {
  return memjsUtils.makeRequestBuffer(0, key, '', '', seq);
}

/** memjs Client#set, up to the socket write (expiration 0, its default; flags always 0). */
function memjsEncodeSet(key: string, value: string | Buffer, seq: number): Buffer {
  const expiration = memjsUtils.makeExpiration(0);
  const extras = Buffer.concat([Buffer.from('00000000', 'hex'), expiration]);
  const serialized = noopSerializer.serialize(1, value, extras);
  return memjsUtils.makeRequestBuffer(1, key, serialized.extras, serialized.value, seq);
}

/** The callback memjs Client#get registers: status 0 deserialises value and extras (the flags, as a Buffer). */
function memjsGetCallback(response: MemjsResponse): void {
  switch (response.header.status) {
    case 0: {
      const deserialized = noopSerializer.deserialize(response.header.opcode, response.val, response.extras);
      consume(deserialized.value);
      consume(deserialized.extras);
      break;
    }
    case 1:
      consume(null);
      break;
    default:
      throw new Error(`status ${response.header.status}`);
  }
}

// ---- inputs --------------------------------------------------------------------

// Keys of 20 ASCII bytes.
const KEYS = Array.from({ length: 4096 }, (_, i) => `user:${String((i * 2654435761) % 1e12).padStart(12, '0')}:ab`.slice(0, 20));
const STRING_VALUE = 'v'.repeat(100);
const BYTES_VALUE = new Uint8Array(100).map((_, i) => (i * 7) & 0xff);
const BUFFER_VALUE = Buffer.from(BYTES_VALUE); // what a memjs user passes: a Buffer is used as is, a Uint8Array copied
const FLAGS = 0x2a;
const HIT_VALUE = new Uint8Array(100).map((_, i) => (i * 13) & 0xff);

/** A Get reply as memcached sends it: 4 bytes of flags, the value, a CAS. */
function getHit(opaque: number): Buffer {
  const frame = Buffer.alloc(24 + 4 + HIT_VALUE.length);
  frame[0] = 0x81;
  frame[4] = 4;
  frame.writeUInt32BE(4 + HIT_VALUE.length, 8);
  frame.writeUInt32BE(opaque, 12);
  frame.writeUInt32BE(0x1234, 20);
  frame.writeUInt32BE(FLAGS, 24);
  frame.set(HIT_VALUE, 28);
  return frame;
}
// Socket reads arrive as Buffers: both decoders are fed Buffers.
const ONE_HIT = getHit(1);
const HITS_64 = Buffer.concat(Array.from({ length: 64 }, (_, i) => getHit(i)));

/** The same hit in the meta protocol, as memcached answers `mg <key> v f c O<tag>`. */
function metaHit(tag: number): Buffer {
  return Buffer.concat([Buffer.from(`VA ${HIT_VALUE.length} f${FLAGS} c4660 O${tag}\r\n`), HIT_VALUE, Buffer.from('\r\n')]);
}
const META_ONE_HIT = metaHit(1);
const META_HITS_64 = Buffer.concat(Array.from({ length: 64 }, (_, i) => metaHit(i)));

// ---- sanity: both sides produce and read the same bytes --------------------------

function ourBytes(write: (w: RequestWriter) => void): Buffer {
  const writer = new RequestWriter();
  write(writer);
  return Buffer.concat(writer.drain());
}
function check(what: string, ours: Uint8Array, theirs: Uint8Array): void {
  if (Buffer.compare(ours, theirs) !== 0) throw new Error(`${what}: memring and memjs frames differ`);
}
check('GET', ourBytes((w) => w.keyOnly(Opcode.Get, KEYS[0]!, 7)), memjsEncodeGet(KEYS[0]!, 7));
check('SET', ourBytes((w) => w.store(Opcode.Set, KEYS[0]!, STRING_VALUE, 0, 0, 7)), memjsEncodeSet(KEYS[0]!, STRING_VALUE, 7));
check('SET bytes', ourBytes((w) => w.store(Opcode.Set, KEYS[0]!, BYTES_VALUE, 0, 0, 7)), memjsEncodeSet(KEYS[0]!, BUFFER_VALUE, 7));
{
  const seen: [Uint8Array, number][] = [];
  new ResponseDecoder({ onFrame: (f) => void seen.push([f.value(), f.flags]) }).push(HITS_64);
  const server = new MemjsServer('127.0.0.1', 11211);
  const theirs: [Buffer, number][] = [];
  for (let i = 0; i < 64; i++) server.onResponse(i, (r) => void theirs.push([r.val, r.extras.readUInt32BE(0)]));
  server.responseHandler(HITS_64);
  if (seen.length !== 64 || theirs.length !== 64) throw new Error(`decoded ${seen.length} and ${theirs.length} of 64 frames`);
  for (let i = 0; i < 64; i++) {
    check(`hit ${i}`, seen[i]![0], theirs[i]![0]);
    check(`hit ${i} value`, seen[i]![0], HIT_VALUE);
    if (seen[i]![1] !== FLAGS || theirs[i]![1] !== FLAGS) throw new Error('flags differ');
  }
}

{
  // The meta side too: the request lines memcached expects, the hits read back.
  const meta = new MetaWriter();
  meta.get(KEYS[0]!, 7, false, 0, false);
  meta.store(StoreMode.Set, KEYS[0]!, STRING_VALUE, FLAGS, 0, 0, 0, 8);
  const lines = Buffer.concat(meta.drain()).toString('latin1');
  if (lines !== `mg ${KEYS[0]} v f c O7\r\nms ${KEYS[0]} 100 F${FLAGS} T0 MS O8\r\n${STRING_VALUE}\r\n`) throw new Error('meta request lines differ');
  const seen: Uint8Array[] = [];
  new MetaReader({ onReply: (r) => void (r.flags === FLAGS && seen.push(r.value())) }, 2 * 1024 * 1024).push(META_HITS_64);
  if (seen.length !== 64) throw new Error(`meta: read ${seen.length} of 64 hits`);
  for (const value of seen) check('meta hit value', value, HIT_VALUE);
}

// ---- timing --------------------------------------------------------------------

/** Meta and binary rows of each table, for the ratio table at the end. */
const pairs: [title: string, rows: Measurement[], binary: string, meta: string][] = [];

type Case = [name: string, fn: (i: number) => unknown, iterations: number];

/**
 * One round of each case in turn, `rounds` times, then the median per case: on
 * a shared machine a burst of load then lands on every case alike.
 */
function interleaved(cases: Case[], rounds = 7): Measurement[] {
  const samples = cases.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach(([name, fn, iterations], k) => samples[k]!.push(measure(name, fn, { iterations, rounds: 1 }).nsPerOp));
  }
  return cases.map(([name], k) => {
    const sorted = samples[k]!.sort((a, b) => a - b);
    const nsPerOp = sorted[sorted.length >> 1]!;
    return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
  });
}

// ---- encode --------------------------------------------------------------------

// memjs is an order of magnitude slower: fewer iterations keep its rounds as long as ours.
const OURS = 1_000_000;
const THEIRS = 200_000;
/** Drains like a connection flushing once per tick, every 64 operations. */
function tick(writer: RequestWriter | MetaWriter, i: number): void {
  if ((i & 63) === 63) {
    consume(writer.drain());
    writer.drained();
  }
}

{
  const writer = new RequestWriter();
  const meta = new MetaWriter();
  const memjs = 'memjs makeRequestBuffer(0, key, "", "", seq)';
  const rows = interleaved([
    ['memring RequestWriter.keyOnly(Get), drain every 64', (i) => {
      writer.keyOnly(Opcode.Get, KEYS[i & 4095]!, i);
      tick(writer, i);
    }, OURS],
    ['memring meta MetaWriter.get (mg k v f c O), drain every 64', (i) => {
      meta.get(KEYS[i & 4095]!, i, false, 0, false);
      tick(meta, i);
    }, OURS],
    [memjs, (i) => memjsEncodeGet(KEYS[i & 4095]!, i), THEIRS],
  ]);
  report('Encode a GET (20-byte ASCII key), ns per request', rows, memjs);
  pairs.push(['encode GET', rows, rows[0]!.name, rows[1]!.name]);
}

{
  const writer = new RequestWriter();
  const meta = new MetaWriter();
  const memjs = 'memjs set, string value';
  const rows = interleaved([
    ['memring meta MetaWriter.store(ms), string value', (i) => {
      meta.store(StoreMode.Set, KEYS[i & 4095]!, STRING_VALUE, FLAGS, 0, 0, 0, i);
      tick(meta, i);
    }, OURS],
    ['memring meta MetaWriter.store(ms), Uint8Array value', (i) => {
      meta.store(StoreMode.Set, KEYS[i & 4095]!, BYTES_VALUE, FLAGS, 0, 0, 0, i);
      tick(meta, i);
    }, OURS],
    ['memring RequestWriter.store, string value', (i) => {
      writer.store(Opcode.Set, KEYS[i & 4095]!, STRING_VALUE, FLAGS, 0, i);
      tick(writer, i);
    }, OURS],
    ['memring RequestWriter.store, Uint8Array value', (i) => {
      writer.store(Opcode.Set, KEYS[i & 4095]!, BYTES_VALUE, FLAGS, 0, i);
      tick(writer, i);
    }, OURS],
    [memjs, (i) => memjsEncodeSet(KEYS[i & 4095]!, STRING_VALUE, i), THEIRS],
    ['memjs set, Buffer value', (i) => memjsEncodeSet(KEYS[i & 4095]!, BUFFER_VALUE, i), THEIRS],
  ]);
  report('Encode a SET (20-byte key, 100-byte value), ns per request', rows, memjs);
  pairs.push(['encode SET, string value', rows, 'memring RequestWriter.store, string value', 'memring meta MetaWriter.store(ms), string value']);
  pairs.push(['encode SET, Uint8Array value', rows, 'memring RequestWriter.store, Uint8Array value', 'memring meta MetaWriter.store(ms), Uint8Array value']);
}

// ---- decode --------------------------------------------------------------------

/** What a Get caller needs from a hit: the value bytes it may keep, and the flags. */
const takeHit: FrameHandler = {
  onFrame(frame) {
    consume(frame.value());
    consume(frame.flags);
  },
};
const takeMetaHit: ReplyHandler = {
  onReply(reply) {
    consume(reply.value());
    consume(reply.flags);
  },
};

{
  const decoder = new ResponseDecoder(takeHit);
  const reader = new MetaReader(takeMetaHit, 2 * 1024 * 1024);
  const server = new MemjsServer('127.0.0.1', 11211);
  let pending = Buffer.alloc(0);
  const memjs = 'memjs Server.responseHandler + get callback';
  const rows = interleaved([
    ['memring ResponseDecoder.push, value() + flags', () => decoder.push(ONE_HIT), OURS],
    ['memring meta MetaReader.push, value() + flags', () => reader.push(META_ONE_HIT), OURS],
    [memjs, () => {
      // Client#perform registers the callback when it sends the request.
      server.onResponse(1, memjsGetCallback);
      server.responseHandler(ONE_HIT);
    }, THEIRS],
    // The same minus the callback table: Server#appendToBuffer, then parseMessage until it returns false.
    ['memjs appendToBuffer + parseMessage + deserialize', () => {
      const joined = Buffer.alloc(pending.length + ONE_HIT.length);
      pending.copy(joined, 0);
      ONE_HIT.copy(joined, pending.length);
      pending = joined;
      let response = memjsUtils.parseMessage(pending);
      while (response) {
        memjsGetCallback(response);
        pending = pending.slice(response.header.totalBodyLength + 24);
        response = memjsUtils.parseMessage(pending);
      }
    }, THEIRS],
  ]);
  report('Decode a GET hit (100-byte value, flags), one frame per chunk, ns per frame', rows, memjs);
  pairs.push(['decode a GET hit, one per chunk', rows, rows[0]!.name, rows[1]!.name]);
}

{
  const decoder = new ResponseDecoder(takeHit);
  const reader = new MetaReader(takeMetaHit, 2 * 1024 * 1024);
  const server = new MemjsServer('127.0.0.1', 11211);
  const memjs = 'memjs Server.responseHandler + get callback';
  const rows = interleaved([
    ['memring ResponseDecoder.push, value() + flags', () => decoder.push(HITS_64), 30_000],
    ['memring meta MetaReader.push, value() + flags', () => reader.push(META_HITS_64), 30_000],
    [memjs, () => {
      for (let seq = 0; seq < 64; seq++) server.onResponse(seq, memjsGetCallback);
      server.responseHandler(HITS_64);
    }, 5_000],
  ]).map((m) => ({ name: m.name, nsPerOp: m.nsPerOp / 64, opsPerSec: m.opsPerSec * 64 }));
  report('Decode 64 GET hits in one chunk, ns per frame', rows, memjs);
  pairs.push(['decode 64 GET hits in one chunk', rows, rows[0]!.name, rows[1]!.name]);
}

{
  console.log('\n### Meta against binary, same run (ns per operation; ratio > 1: meta slower)\n');
  console.log('| case | binary | meta | meta / binary |');
  console.log('|---|---:|---:|---:|');
  for (const [title, rows, binary, meta] of pairs) {
    const b = rows.find((r) => r.name === binary)!.nsPerOp;
    const m = rows.find((r) => r.name === meta)!.nsPerOp;
    console.log(`| ${title} | ${b.toFixed(1)} | ${m.toFixed(1)} | ${(m / b).toFixed(2)}x |`);
  }
}
