import { command as channels } from '#diagnostics';
import type { CommandTrace } from '../command.js';
import type { Protocol } from '../group-options.js';

/** Whether anyone listens on `memring:command`: the one check an untraced call pays. */
export function tracing(): boolean {
  return (
    channels.start.hasSubscribers ||
    channels.end.hasSubscribers ||
    channels.asyncStart.hasSubscribers ||
    channels.asyncEnd.hasSubscribers ||
    channels.error.hasSubscribers
  );
}

/** The server a traced call goes to (a Pool): its names, made once per server. */
export interface TracedServer {
  /** host:port */
  readonly address: string;
  readonly host: string;
  readonly port: number;
}

const BEFORE = 0;
const CALLING = 1;
const RETURNED = 2;

/**
 * The context object of one Group call on the TracingChannel `memring:command`,
 * made only while someone subscribes. The same object is published on start and
 * end (around the call), then error (on a rejection), asyncStart and asyncEnd
 * (when the call settles), as TracingChannel.tracePromise would, without
 * wrapping the call's promise: single-key commands report their settlement
 * themselves (Command.trace).
 */
export class CommandContext implements CommandTrace {
  /** host:port, when the call goes to one server. */
  server: string | undefined = undefined;
  host: string | undefined = undefined;
  port: number | undefined = undefined;
  /** getMulti: keys asked, found and missing. */
  keys: number | undefined = undefined;
  hits: number | undefined = undefined;
  misses: number | undefined = undefined;
  /** get, gat: whether the key was found. */
  hit: boolean | undefined = undefined;
  /** What the call resolved to. */
  result: unknown = undefined;
  /** What the call rejected with (a MemcacheError: see its code). */
  error: unknown = undefined;
  private phase = BEFORE;
  private settledEarly = false;

  constructor(
    /** The Group method: get, set, getMulti, incr, flush... */
    readonly operation: string,
    readonly protocol: Protocol,
    server: TracedServer | null,
  ) {
    if (server !== null) this.at(server);
  }

  at(server: TracedServer): void {
    this.server = server.address;
    this.host = server.host;
    this.port = server.port;
  }

  start(): void {
    this.phase = CALLING;
    if (channels.start.hasSubscribers) channels.start.publish(this);
  }

  end(): void {
    this.phase = RETURNED;
    if (channels.end.hasSubscribers) channels.end.publish(this);
    // Settled before the call returned (a refused argument): its async events follow its end.
    if (this.settledEarly) this.publishSettled();
  }

  succeeded(value: unknown): void {
    this.result = value;
    if (this.operation === 'get' || this.operation === 'gat') this.hit = value !== null;
    else if (value instanceof Map && this.operation === 'getMulti' && this.keys !== undefined) {
      this.hits = value.size;
      this.misses = this.keys - value.size;
    }
    this.settle();
  }

  failed(error: Error): void {
    this.error = error;
    this.settle();
  }

  /** Follows a call made of several commands (getMulti, every-server calls) to its settlement. */
  follow<T>(promise: Promise<T>): Promise<T> {
    promise.then(
      (value) => this.succeeded(value),
      (error: Error) => this.failed(error),
    );
    return promise;
  }

  private settle(): void {
    if (this.phase === CALLING) this.settledEarly = true;
    else this.publishSettled();
  }

  private publishSettled(): void {
    if (this.error !== undefined && channels.error.hasSubscribers) channels.error.publish(this);
    if (channels.asyncStart.hasSubscribers) channels.asyncStart.publish(this);
    if (channels.asyncEnd.hasSubscribers) channels.asyncEnd.publish(this);
  }
}

/** The message of `memring:connect`, `memring:connect-error`, `memring:close`, `memring:server-down` and `memring:server-up`. */
export interface ConnectionMessage {
  /** host:port */
  server: string;
  host: string;
  port: number;
  /** What failed (connect-error, server-down; close when the connection failed rather than was closed). */
  error?: unknown;
  /** server-down: failed operations in a row. */
  failures?: number;
}
