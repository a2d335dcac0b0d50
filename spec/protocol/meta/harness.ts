// The spec's own stand-in for a Connection: a node:net socket, a FIFO of
// commands implementing ReplyTarget, and a codec driving both. Only enough to
// check the codec against a real server; the real Connection is lib/net's.
import net from 'node:net';

import { Command, promiseOf, type Verb } from '../../../lib/command.js';
import type { Codec, CodecFactory, ReplyTarget } from '../../../lib/protocol/codec.js';
import type { SaslCredentials } from '../../../lib/net/credentials.js';

export class CodecHarness implements ReplyTarget {
  readonly codec: Codec;
  private readonly fifo: Command[] = [];
  private headIndex = 0;
  private socket: net.Socket | null = null;
  private waiting: Command[] = [];
  private authenticated = false;
  /** The error read() threw (the connection is then closed), if any. */
  failure: Error | null = null;
  /** Resolves when the socket closes. */
  closed: Promise<void> = Promise.resolve();

  constructor(factory: CodecFactory, options: { server: string; maxValueSize?: number; sasl?: SaslCredentials }) {
    this.codec = factory(
      { server: options.server, maxValueSize: options.maxValueSize ?? 1024 * 1024, ...(options.sasl ? { sasl: options.sasl } : {}) },
      this,
    );
  }

  async connect(port: number): Promise<void> {
    const socket = net.connect(port, '127.0.0.1');
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      try {
        this.codec.read(data);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('close', () => this.fail(new Error('connection closed')));
    const first = this.codec.handshake();
    for (const chunk of first) socket.write(chunk);
    this.authenticated = !this.codec.awaitingHandshake;
  }

  /** Runs one command and resolves with what it settles to. */
  run<T = unknown>(verb: Verb, fill: (command: Command) => void = () => {}): Promise<T> {
    const command = new Command(verb);
    fill(command);
    const promise = promiseOf<T>(command);
    if (this.authenticated) this.send(command);
    else this.waiting.push(command);
    return promise;
  }

  private send(command: Command): void {
    try {
      this.codec.encode(command);
    } catch (error) {
      command.fail(error as Error);
      return;
    }
    this.fifo.push(command);
    const chunks = this.codec.output.drain();
    for (const chunk of chunks) this.socket!.write(chunk);
    this.codec.output.drained();
  }

  close(): void {
    this.socket?.destroy();
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    for (let i = this.headIndex; i < this.fifo.length; i++) this.fifo[i]!.fail(error);
    for (const command of this.waiting) command.fail(error);
    this.headIndex = this.fifo.length;
    this.waiting = [];
    this.socket?.destroy();
  }

  // ---- ReplyTarget ----
  head(): Command | null {
    return this.fifo[this.headIndex] ?? null;
  }
  complete(): void {
    this.headIndex++;
  }
  ready(): void {
    this.authenticated = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const command of waiting) this.send(command);
  }
}
