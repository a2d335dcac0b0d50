// A scripted ElastiCache configuration endpoint on a loopback port, answering
// in the documented reply formats. The nodes it lists are real memcached
// processes; only the configuration is scripted (there is no ElastiCache here).
import { createServer, type Server, type Socket } from 'node:net';

/**
 * - `config`: answers `config get cluster` (engines 1.4.14+) and `get AmazonElastiCache:cluster`;
 * - `legacy`: ERROR to `config get cluster`, the VALUE reply to `get AmazonElastiCache:cluster` (before 1.4.14);
 * - `garbage`: a reply that is no configuration; `hangup`: closes the connection on a question;
 * - `stall`: never answers.
 */
export type EndpointMode = 'config' | 'legacy' | 'garbage' | 'hangup' | 'stall';

export class ScriptedEndpoint {
  mode: EndpointMode = 'config';
  /** Every question received, in order, across connections. */
  readonly asks: string[] = [];
  /** Connections accepted so far. */
  connections = 0;
  /** Sends each reply in two writes this many bytes apart (0: one write). */
  splitAt = 0;
  private version = 0;
  private nodes: string[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private askWaiters: { count: number; resolve: () => void }[] = [];
  port = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** What the next answers list: `hostname|ip|port` entries. */
  serve(version: number, nodes: string[]): void {
    this.version = version;
    this.nodes = nodes;
  }

  static async start(): Promise<ScriptedEndpoint> {
    const endpoint = new ScriptedEndpoint();
    await endpoint.listen(0);
    return endpoint;
  }

  /** Listens (again, on the same port after stop()). */
  async listen(port = this.port): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    this.port = address.port;
    this.server = server;
  }

  /** Stops listening and drops every connection: the endpoint is unreachable. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `count` questions in all have been received; rejects after `ms`. */
  waitForAsks(count: number, ms = 10_000): Promise<void> {
    if (this.asks.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.asks.length} of ${count} questions within ${ms} ms`)), ms);
      this.askWaiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Resolves once no connection is open; rejects after `ms`. */
  async waitForNoConnection(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.sockets.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.sockets.size} connections still open after ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        this.answer(socket, line);
      }
    });
  }

  private answer(socket: Socket, line: string): void {
    this.asks.push(line);
    for (const waiter of this.askWaiters.filter((w) => this.asks.length >= w.count)) waiter.resolve();
    this.askWaiters = this.askWaiters.filter((w) => this.asks.length < w.count);
    const data = `${this.version}\n${this.nodes.join(' ')}\n`;
    const length = Buffer.byteLength(data);
    switch (this.mode) {
      case 'stall':
        return;
      case 'hangup':
        socket.destroy();
        return;
      case 'garbage':
        return this.reply(socket, 'CONFIG cluster 0 zz\r\nnot a configuration\r\nEND\r\n');
    }
    if (line === 'config get cluster') {
      if (this.mode === 'legacy') return this.reply(socket, 'ERROR\r\n');
      return this.reply(socket, `CONFIG cluster 0 ${length}\r\n${data}\r\nEND\r\n`);
    }
    if (line === 'get AmazonElastiCache:cluster') {
      return this.reply(socket, `VALUE AmazonElastiCache:cluster 0 ${length}\r\n${data}\r\nEND\r\n`);
    }
    this.reply(socket, 'ERROR\r\n');
  }

  private reply(socket: Socket, text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    if (this.splitAt <= 0 || this.splitAt >= bytes.length) {
      socket.write(bytes);
      return;
    }
    socket.write(bytes.subarray(0, this.splitAt));
    setTimeout(() => socket.write(bytes.subarray(this.splitAt)), 20);
  }
}
