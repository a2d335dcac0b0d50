/**
 * The interface a Connection drives: one implementation per wire protocol
 * (binary, meta). The connection owns the socket, the FIFO of commands, the
 * deadlines and the failure rules; the codec owns every byte: it encodes
 * commands, reads replies and settles the command they answer.
 */
import type { Command } from '../command.js';
import type { SaslCredentials } from '../net/credentials.js';

/** Where a codec delivers replies: the connection's FIFO. */
export interface ReplyTarget {
  /** The oldest command written and awaiting its reply, or null when none is. */
  head(): Command | null;
  /**
   * The head's reply is complete (the codec has settled it, or it had
   * already settled through its signal): the connection takes it off the FIFO.
   */
  complete(): void;
  /** The handshake's reply came and was good: queued commands may now be written. */
  ready(): void;
}

export interface CodecOptions {
  /** Largest value accepted, in bytes: larger values are refused at encode, larger replies are corrupt. */
  maxValueSize: number;
  /** Credentials to present on every new connection, before any command. */
  sasl?: SaslCredentials | undefined;
  /** host:port, for messages. */
  server: string;
}

/** Encoded requests, in order, until they are handed to the socket (BlockWriter is one). */
export interface EncodedOutput {
  /** True when encoded bytes wait to be drained. */
  readonly pending: boolean;
  /** Everything encoded and not yet handed out, in order; the array is reused: consume it synchronously. */
  drain(): Uint8Array[];
  /** Clears the array drain() returned once its chunks are written. */
  drained(): void;
  /** Drops everything encoded and not drained (the connection it was meant for is gone). */
  discard(): void;
  /** Queues chunks drained earlier and never sent after what is encoded now. */
  requeue(chunks: readonly Uint8Array[]): void;
}

export interface Codec {
  /**
   * Encodes a command's request(s) after those already queued, assigning its
   * tags. Throws a MemcacheError (committing nothing) on a bad key or value.
   */
  encode(command: Command): void;
  /** Where encoded requests wait until the connection writes them. */
  readonly output: EncodedOutput;

  /**
   * What to write first on a new connection (authentication, a protocol
   * check), or an empty array. The codec resets its reading state for the new
   * connection here.
   */
  handshake(): readonly Uint8Array[];
  /**
   * After handshake(): true when commands must wait for the handshake's
   * reply (the codec then calls ReplyTarget.ready()); false when they may
   * follow at once.
   */
  readonly awaitingHandshake: boolean;

  /**
   * Bytes as they come off the socket. Settles the commands they answer
   * (through ReplyTarget). Throws a MemcacheError on bytes that are not a
   * valid reply, a reply that matches no command in flight, or a failed
   * authentication: the connection then closes. Keeps nothing of `chunk`,
   * unless `kept` (the transport never writes over it again): values handed
   * out may then be views of it instead of copies.
   */
  read(chunk: Uint8Array, kept?: boolean): void;
  /** Forgets any partial reply and stops the chunk being read (the connection is gone). */
  reset(): void;
  /**
   * Optional: what it likely means that the connection got not one byte back
   * after requests were written (it closed, or a request timed out), for the
   * failure's message; null when that says nothing.
   */
  silenceHint?(): string | null;
}

export type CodecFactory = (options: CodecOptions, target: ReplyTarget) => Codec;
