// The part of Workers' `cloudflare:sockets` that workers-transport.ts uses, so
// type-checking needs no @cloudflare/workers-types. Not emitted: no .d.ts in
// dist/ refers to it.
declare module 'cloudflare:sockets' {
  export interface SocketAddress {
    hostname: string;
    port: number;
  }
  export interface SocketOptions {
    secureTransport?: 'off' | 'on' | 'starttls';
    allowHalfOpen?: boolean;
  }
  export interface Socket {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array>;
    readonly opened: Promise<unknown>;
    readonly closed: Promise<void>;
    close(): Promise<void>;
  }
  export function connect(address: SocketAddress, options?: SocketOptions): Socket;
}
