// `cloudflare:sockets` for Node, so workers-transport.spec.ts can drive
// lib/net/workers-transport.ts in this process against real memcached: Node's
// web streams over a node:net socket, with the Workers API's promises. TLS is
// not played here (workerd itself does it in spec/runtimes.test.ts): the
// options asked for are recorded, and 'on' fails like an unreachable server.
import type { SocketAddress, SocketOptions } from 'cloudflare:sockets';
import { connect as tcp } from 'node:net';
import { Duplex } from 'node:stream';

/** Every connect() call, in order. */
export const calls: { address: SocketAddress; options: SocketOptions | undefined }[] = [];

export function connect(address: SocketAddress, options?: SocketOptions) {
  calls.push({ address, options });
  const socket = tcp({ host: address.hostname, port: address.port });
  const { readable, writable } = Duplex.toWeb(socket) as unknown as {
    readable: ReadableStream<Uint8Array>;
    writable: WritableStream<Uint8Array>;
  };
  const opened = new Promise<object>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      if (options?.secureTransport === 'on') socket.destroy(new Error('no TLS in this stand-in'));
      else resolve({});
    });
  });
  const closed = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
  return {
    readable,
    writable,
    opened,
    closed,
    close: async (): Promise<void> => {
      socket.destroy();
    },
  };
}
