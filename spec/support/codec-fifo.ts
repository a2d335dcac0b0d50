// A codec driven without a connection: commands encoded in order into a
// synchronous FIFO that the codec settles, for specs that feed scripted
// replies (what a real server will not send) and read the exact requests.
import { Command, type Verb } from '../../lib/command.js';
import type { Codec, ReplyTarget } from '../../lib/protocol/codec.js';
import { concat } from './frames.js';

/** A synchronous FIFO: commands encoded in order, settled by the codec. */
export class Fifo implements ReplyTarget {
  readonly commands: Command[] = [];
  at = 0;
  readied = 0;
  readonly outcomes = new Map<Command, { value?: unknown; error?: Error }>();
  head(): Command | null {
    return this.commands[this.at] ?? null;
  }
  complete(): void {
    this.at++;
  }
  ready(): void {
    this.readied++;
  }
}

/** The codec `make` builds over a fresh FIFO, handshake done; `send` encodes a command, `wire` drains what was written. */
export function codecHarness<C extends Codec>(make: (fifo: Fifo) => C) {
  const fifo = new Fifo();
  const codec = make(fifo);
  codec.handshake();
  const send = (verb: Verb, fill: (c: Command) => void = () => {}): Command => {
    const command = new Command(verb);
    fill(command);
    command.resolve = (value) => fifo.outcomes.set(command, { value });
    command.reject = (error) => fifo.outcomes.set(command, { error });
    command.deadline = Date.now() + 60_000;
    codec.encode(command);
    // Linked as the connection links its FIFO.
    const last = fifo.commands[fifo.commands.length - 1];
    if (last !== undefined) last.next = command;
    fifo.commands.push(command);
    return command;
  };
  const wire = (): string => {
    const out = Buffer.from(concat(codec.output.drain())).toString('latin1');
    codec.output.drained();
    return out;
  };
  return { fifo, codec, send, wire };
}
