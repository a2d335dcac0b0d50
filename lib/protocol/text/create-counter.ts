/**
 * incr/decr with an initial value over the text protocol, which has no
 * atomic "create if missing" (binary's incr and meta's `ma N J` have one):
 *
 *   incr → a number: done. NOT_FOUND → `add <key>` the initial value →
 *   STORED: done, the initial value. NOT_STORED (another client created it
 *   in between) → incr again, and so on, at most MAX_ROUNDS times.
 *
 * What that guarantees: the key is created at most once (add only stores
 * where nothing is), and every caller gets either the initial value (its add
 * won) or the counter after its own delta (no delta is lost or applied twice,
 * since each incr is applied once by the server). What it does not: the
 * create and the first incr are separate round trips, so an incr without an
 * initial value racing them can still see NOT_FOUND; and a key deleted or
 * expiring between the steps each time fails after MAX_ROUNDS rounds
 * (MC_ERR_SERVER) rather than looping.
 */
import { Command, Verb, promiseOf, verbName } from '../../command.js';
import { ErrorCode, MemcacheError } from '../../errors.js';

/** Rounds of incr, add before giving up: each round means the key vanished or appeared between two steps. */
const MAX_ROUNDS = 3;

/** Where the steps go: the pool of the server the key lives on. */
export interface CommandSink {
  send(command: Command): void;
}

/** Runs `op` (an incr/decr with `create`) as the steps above; settles `op`. */
export function createCounter(op: Command, sink: CommandSink): void {
  void run(op, sink);
}

async function run(op: Command, sink: CommandSink): Promise<void> {
  const initial = BigInt(op.initial);
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const counted = await step<bigint | null>(sink, arithmetic(op));
      if (op.settled) return;
      if (counted !== null) return op.succeed(counted);
      const added = await step<boolean>(sink, add(op, initial));
      if (op.settled) return;
      if (added) return op.succeed(initial);
    }
    op.fail(
      new MemcacheError(
        ErrorCode.SERVER,
        `${verbName(op.verb)} with an initial value failed: the key was missing for ${verbName(op.verb)} and present for add ${MAX_ROUNDS} times in a row (created and deleted by others between the steps)`,
      ),
    );
  } catch (error) {
    op.fail(error as Error);
  }
}

function step<T>(sink: CommandSink, command: Command): Promise<T> {
  const promise = promiseOf<T>(command);
  sink.send(command);
  return promise;
}

function arithmetic(op: Command): Command {
  const command = new Command(op.verb);
  command.key = op.key;
  command.delta = op.delta;
  return command;
}

function add(op: Command, initial: bigint): Command {
  const command = new Command(Verb.Add);
  command.key = op.key;
  command.value = initial.toString();
  command.expires = op.expires;
  return command;
}
