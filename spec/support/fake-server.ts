// A scripted TCP server for what a real memcached will not do: garbage bytes,
// half frames, stalls, unmatched replies. Never used for what a real server decides.
import { createServer, type Server, type Socket } from 'node:net';
import { frame } from './frames.js';

export interface FakeServer {
  address: string;
  port: number;
  /** Every byte received, per connection, in order of connection. */
  received: Buffer[];
  connections: number;
  close(): Promise<void>;
}

/** `onData` is called with each chunk a client sends and that client's socket. */
export function startFakeServer(onData: (socket: Socket, chunk: Buffer, index: number) => void): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const fake: FakeServer = { address: '', port: 0, received: [], connections: 0, close: () => Promise.resolve() };
  const server: Server = createServer((socket) => {
    const index = fake.connections++;
    fake.received[index] = Buffer.alloc(0);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      fake.received[index] = Buffer.concat([fake.received[index]!, chunk]);
      onData(socket, chunk, index);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error('no address');
      fake.port = address.port;
      fake.address = `127.0.0.1:${address.port}`;
      fake.close = () =>
        new Promise((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        });
      resolve(fake);
    });
  });
}

/** Builds a response frame by hand. */
export function responseFrame(fields: {
  opcode: number;
  opaque: number;
  status?: number;
  key?: Uint8Array;
  extras?: Uint8Array;
  value?: Uint8Array;
  cas?: bigint;
  magic?: number;
}): Buffer {
  const cas = fields.cas ?? 0n;
  const bytes = frame(fields.magic ?? 0x81, { ...fields, casHi: Number(cas >> 32n), casLo: Number(cas & 0xffffffffn) });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Splits a stream of request bytes into frames (header fields + body). */
export function requestFrames(bytes: Buffer): { opcode: number; opaque: number; key: string; body: Buffer }[] {
  const out = [];
  let at = 0;
  while (bytes.length - at >= 24) {
    const keyLength = bytes.readUInt16BE(at + 2);
    const extras = bytes[at + 4]!;
    const total = bytes.readUInt32BE(at + 8);
    if (bytes.length - at < 24 + total) break;
    out.push({
      opcode: bytes[at + 1]!,
      opaque: bytes.readUInt32BE(at + 12),
      key: bytes.toString('utf8', at + 24 + extras, at + 24 + extras + keyLength),
      body: bytes.subarray(at + 24, at + 24 + total),
    });
    at += 24 + total;
  }
  return out;
}
