/**
 * The binary protocol as a Codec: commands become request frames (opaques
 * numbered per connection), reply frames settle the command at the head of
 * the connection's FIFO, matched by opaque and opcode.
 */
import { Command, Verb, verbName } from '../../command.js';
import { ErrorCode, MemcacheError } from '../../errors.js';
import { Item } from '../../item.js';
import type { SaslCredentials } from '../../net/credentials.js';
import type { Codec, CodecFactory, CodecOptions, EncodedOutput, ReplyTarget } from '../codec.js';
import { ResponseDecoder, type FrameHandler } from './decoder.js';
import { Opcode, RESPONSE_MAGIC, opcodeName } from './opcodes.js';
import { Status, describeStatus } from '../status.js';
import { RequestWriter } from './writer.js';

/** Expiration that tells Increment/Decrement not to create a missing key. */
const NO_CREATE = 0xffffffff;

/** The opcode each verb is sent as (getMulti: GetKQ per key, then a Noop). */
const OPCODES: readonly number[] = [
  Opcode.Get,
  Opcode.GAT,
  Opcode.Touch,
  Opcode.GetKQ,
  Opcode.Set,
  Opcode.Add,
  Opcode.Replace,
  Opcode.Append,
  Opcode.Prepend,
  Opcode.Delete,
  Opcode.Increment,
  Opcode.Decrement,
  Opcode.Flush,
  Opcode.Version,
  Opcode.Stat,
  Opcode.Noop,
];

/** The binary opcode a command is sent as. */
export function opcodeOf(command: Command): number {
  return OPCODES[command.verb]!;
}

export const binaryCodec: CodecFactory = (options: CodecOptions, target: ReplyTarget): Codec => new BinaryCodec(options, target);

/**
 * The handshake's Noop (opaque 0), the same 24 bytes for every connection
 * (never written over). Its opcode is the byte '\n': a server that speaks
 * only text reads the line it ends at once and answers ERROR, instead of
 * waiting for a newline that a binary request may never hold.
 */
const NOOP_FRAME = new Uint8Array(24);
NOOP_FRAME[0] = 0x80;
NOOP_FRAME[1] = Opcode.Noop;
const CHECK: readonly Uint8Array[] = [NOOP_FRAME];

// Handshake steps: what the next reply must be before commands' replies.
const NONE = 0;
const AUTH = 1;
const CHECKING = 2;

class BinaryCodec implements Codec, FrameHandler {
  private readonly writer: RequestWriter;
  /** The writer itself: encoded requests wait in its blocks. */
  readonly output: EncodedOutput;
  private readonly decoder: ResponseDecoder;
  private nextOpaque = 1;
  private step = NONE;
  /** No byte has come from this connection yet: the first one tells a binary server from a text one. */
  private fresh = true;
  private authRequest: Uint8Array | null = null;

  constructor(
    private readonly options: CodecOptions,
    private readonly target: ReplyTarget,
  ) {
    this.writer = new RequestWriter(options.maxValueSize);
    this.output = this.writer;
    // A reply announcing more than the largest value (plus room for key and extras) is corrupt:
    // refuse it rather than allocate what the header claims.
    this.decoder = new ResponseDecoder(this, options.maxValueSize + 64 * 1024);
  }


  get awaitingHandshake(): boolean {
    return this.step === AUTH;
  }

  encode(command: Command): void {
    const frames = command.keys === null ? 1 : command.keys.length + 1;
    // Opaque 0 belongs to the handshake.
    if (this.nextOpaque + frames > 0xffffffff) this.nextOpaque = 1;
    command.tag = this.nextOpaque;
    command.lastTag = command.tag + frames - 1;
    encodeCommand(this.writer, command);
    this.nextOpaque += frames;
  }

  /**
   * SASL PLAIN first when credentials are set (memcached -S closes a
   * connection that sends anything else first), then the Noop that makes a
   * text-only server answer at once (see NOOP_FRAME): a binary group pointed
   * at one is told so within a round trip, not after `timeout`. Commands
   * follow the Noop without waiting for it; they wait for authentication.
   */
  handshake(): readonly Uint8Array[] {
    this.decoder.reset();
    this.fresh = true;
    const sasl = this.options.sasl;
    if (sasl === undefined) {
      this.step = CHECKING;
      return CHECK;
    }
    this.step = AUTH;
    return [(this.authRequest ??= authFrame(sasl)), NOOP_FRAME];
  }

  read(chunk: Uint8Array, kept = false): void {
    if (this.fresh && chunk.length > 0) {
      this.fresh = false;
      if (chunk[0] !== RESPONSE_MAGIC) throw notBinary(chunk);
    }
    this.decoder.push(chunk, kept);
  }

  reset(): void {
    this.decoder.reset();
  }

  /** One reply frame: the handshake's, or the head command's. */
  onFrame(frame: ResponseDecoder): void {
    if (this.step !== NONE && frame.opaque === 0) return this.onHandshakeReply(frame);
    const command = this.target.head();
    if (command === null || frame.opaque < command.tag || frame.opaque > command.lastTag || !expectedOpcode(command, frame)) {
      throw new MemcacheError(
        ErrorCode.PROTOCOL,
        command === null
          ? `unexpected ${opcodeName(frame.opcode)} reply with nothing in flight`
          : `reply ${opcodeName(frame.opcode)} #${frame.opaque} does not match ${opcodeName(opcodeOf(command))} #${command.tag}`,
      );
    }
    if (applyReply(command, frame, this.options.server)) this.target.complete();
  }

  private onHandshakeReply(frame: ResponseDecoder): void {
    if (this.step === CHECKING) {
      if (frame.opcode !== Opcode.Noop) {
        throw new MemcacheError(ErrorCode.PROTOCOL, `${opcodeName(frame.opcode)} reply #0 where the handshake's Noop reply belongs`);
      }
      this.step = NONE;
      // A server that wants SASL says so to the Noop (and closes); any other answer is the server's business.
      if (frame.status === Status.AuthError) {
        throw new MemcacheError(ErrorCode.AUTH, 'the server requires SASL authentication (memcached -S): set the sasl option', {
          status: frame.status,
        });
      }
      return;
    }
    if (frame.opcode !== Opcode.SaslAuth) {
      throw new MemcacheError(ErrorCode.PROTOCOL, `${opcodeName(frame.opcode)} reply while authenticating`);
    }
    if (frame.status !== Status.Ok) {
      // The username helps an operator; the password never appears anywhere.
      const user = JSON.stringify(this.options.sasl!.username);
      throw new MemcacheError(
        ErrorCode.AUTH,
        frame.status === Status.AuthError
          ? `SASL PLAIN authentication failed for user ${user}`
          : `SASL PLAIN authentication for user ${user} got ${describeStatus(frame.status)}`,
        { status: frame.status },
      );
    }
    this.step = CHECKING;
    this.target.ready();
  }
}

/** Writes the command's frames. Throws (committing nothing) on a bad key or value. */
export function encodeCommand(writer: RequestWriter, command: Command): void {
  const opcode = opcodeOf(command);
  const key = command.key;
  const tag = command.tag;
  switch (command.verb) {
    case Verb.Get:
      return writer.keyOnly(opcode, key, tag);
    case Verb.Delete:
      return writer.keyOnly(opcode, key, tag, command.casHi, command.casLo);
    case Verb.Set:
    case Verb.Add:
    case Verb.Replace:
      return writer.store(opcode, key, command.value!, command.flags, command.expires, tag, command.casHi, command.casLo);
    case Verb.Append:
    case Verb.Prepend:
      return writer.concat(opcode, key, command.value!, tag, command.casHi, command.casLo);
    case Verb.Increment:
    case Verb.Decrement:
      return writer.counter(opcode, key, command.delta, command.initial, command.create ? command.expires : NO_CREATE, tag);
    case Verb.Touch:
    case Verb.GetAndTouch:
      return writer.touch(opcode, key, command.expires, tag);
    case Verb.GetMulti:
      return encodeMulti(writer, command);
    case Verb.Stats:
      return writer.stat(key === '' ? null : key, tag);
    case Verb.Flush:
      return writer.flush(opcode, command.expires, tag);
    case Verb.Lease:
    case Verb.LeaseStore:
    case Verb.Invalidate:
      // Group never sends these over binary; refused typed rather than written as a frame with no opcode.
      throw new MemcacheError(ErrorCode.UNSUPPORTED, `${verbName(command.verb)} needs the meta protocol (binary has no leases or stale items)`);
    default:
      return writer.empty(opcode, tag);
  }
}

/** One GetKQ per key (opaque = first + index: a hit names its key by opaque), then a Noop barrier. */
function encodeMulti(writer: RequestWriter, command: Command): void {
  const keys = command.keys!;
  // Validate every key before writing any frame, so a bad key sends nothing.
  writer.checkpoint();
  try {
    for (let i = 0; i < keys.length; i++) writer.keyOnly(Opcode.GetKQ, keys[i]!, command.tag + i);
  } catch (error) {
    writer.rollback();
    throw error;
  }
  writer.empty(Opcode.Noop, command.lastTag);
}

/**
 * Applies one reply frame to the command at the head of the FIFO.
 * Returns true when the command has received its last frame.
 */
export function applyReply(command: Command, frame: ResponseDecoder, server: string): boolean {
  const status = frame.status;
  switch (command.verb) {
    case Verb.Get:
    case Verb.GetAndTouch:
      if (status === Status.Ok) command.succeed(new Item(frame.value(), frame.flags, frame.casHi, frame.casLo));
      else if (status === Status.KeyNotFound) command.succeed(null);
      else command.fail(statusError(frame, server));
      return true;
    case Verb.Increment:
    case Verb.Decrement:
      if (status === Status.Ok) {
        // A short body would make counter() read the next frame's bytes: the stream is corrupt.
        if (frame.valueLength !== 8) {
          throw new MemcacheError(ErrorCode.PROTOCOL, `counter reply of ${frame.valueLength} bytes (expected 8)`, { server });
        }
        command.succeed(frame.counter());
      } else if (status === Status.KeyNotFound) command.succeed(null);
      else command.fail(statusError(frame, server));
      return true;
    case Verb.GetMulti:
      return applyMulti(command, frame, server);
    case Verb.Stats:
      if (status !== Status.Ok) {
        command.fail(statusError(frame, server));
        return true;
      }
      if (frame.keyLength === 0) {
        command.succeed(command.result);
        return true;
      }
      (command.result as Record<string, string>)[frame.keyText()] = frame.valueText();
      return false;
    case Verb.Version:
      if (status === Status.Ok) command.succeed(frame.valueText());
      else command.fail(statusError(frame, server));
      return true;
    case Verb.Flush:
    case Verb.Noop:
      if (status === Status.Ok) command.succeed(undefined);
      else command.fail(statusError(frame, server));
      return true;
    default:
      // Stores, concatenations, delete, touch: a condition that did not hold is false, not an error.
      if (status === Status.Ok) command.succeed(true);
      else if (isConditionFailure(status)) command.succeed(false);
      else command.fail(statusError(frame, server));
      return true;
  }
}

function applyMulti(command: Command, frame: ResponseDecoder, server: string): boolean {
  if (frame.opaque === command.lastTag) {
    if (command.error !== null) command.fail(command.error);
    else command.succeed(command.result);
    return true;
  }
  const key = command.keys![frame.opaque - command.tag]!;
  if (frame.status === Status.Ok) {
    (command.result as Map<string, Item>).set(key, new Item(frame.value(), frame.flags, frame.casHi, frame.casLo));
  } else if (frame.status !== Status.KeyNotFound && command.error === null) {
    command.error = statusError(frame, server);
  }
  return false;
}

function expectedOpcode(command: Command, frame: ResponseDecoder): boolean {
  if (command.verb !== Verb.GetMulti) return frame.opcode === opcodeOf(command);
  return frame.opcode === (frame.opaque === command.lastTag ? Opcode.Noop : Opcode.GetKQ);
}

/** Statuses that mean "the condition did not hold": a boolean false, not an error. */
function isConditionFailure(status: number): boolean {
  return status === Status.KeyNotFound || status === Status.KeyExists || status === Status.ItemNotStored;
}

function statusError(frame: ResponseDecoder, server: string): MemcacheError {
  const status = frame.status;
  const code =
    status === Status.ValueTooLarge
      ? ErrorCode.VALUE_TOO_LARGE
      : status === Status.NonNumeric
        ? ErrorCode.NOT_NUMERIC
        : status === Status.AuthError
          ? ErrorCode.AUTH
          : ErrorCode.SERVER;
  return new MemcacheError(code, `${opcodeName(frame.opcode)} failed: ${describeStatus(status)}`, { server, status });
}

/** Bytes where a binary reply's magic byte belongs: a text server's answer says what it is. */
function notBinary(chunk: Uint8Array): MemcacheError {
  const line = new TextDecoder().decode(chunk.subarray(0, Math.min(chunk.length, 40))).split('\r\n')[0]!;
  if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)/.test(line)) {
    return new MemcacheError(
      ErrorCode.PROTOCOL,
      `the server speaks the text protocol, not binary (it answered ${JSON.stringify(line.slice(0, 24))}; memcached -B ascii, or a proxy): use protocol: 'meta'`,
    );
  }
  return new MemcacheError(
    ErrorCode.PROTOCOL,
    `bad magic byte 0x${chunk[0]!.toString(16).padStart(2, '0')} in reply (expected 0x81): not a binary-protocol memcached`,
  );
}

/** The SASL PLAIN request (opaque 0), built once per connection. */
function authFrame({ username, password }: SaslCredentials): Uint8Array {
  const writer = new RequestWriter();
  writer.sasl(Opcode.SaslAuth, 'PLAIN', new TextEncoder().encode(`\0${username}\0${password}`), 0);
  return writer.drain()[0]!.slice();
}
