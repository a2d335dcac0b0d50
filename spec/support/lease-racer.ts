// One racing process for spec/get-or-set-processes.spec.ts: its own Group,
// `calls` concurrent getOrSet on one key once the parent says "go". Each
// factory run counts itself on the server (incr), so the parent reads how
// many loads ran across every process from memcached, not from any process.
// Prints "ready", then one JSON line with every call's outcome.
import { createInterface } from 'node:readline';
import { Group, type Protocol } from '../../lib/index.js';

interface RacerConfig {
  address: string;
  protocol: Protocol;
  key: string;
  counter: string;
  calls: number;
  /** How long each load takes, in ms. */
  loadMs: number;
  /** The first load of all (counter 1) throws. */
  failFirst: boolean;
}

const config = JSON.parse(process.argv[2]!) as RacerConfig;
const group = new Group([config.address], { protocol: config.protocol, timeout: 20_000 });

async function load(): Promise<string> {
  const run = await group.incr(config.counter, 1, { initial: 1, expires: 600 });
  await new Promise((resolve) => setTimeout(resolve, config.loadMs));
  if (config.failFirst && run === 1n) throw new Error(`load ${run} failed`);
  return `load ${run}`;
}

// Connected before the race starts, so every process's first request goes out at "go".
await group.noop();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;
lines.close();

const outcomes = await Promise.all(
  Array.from({ length: config.calls }, () =>
    group.getOrSet(config.key, load, { expires: 600, timeout: 20_000 }).then(
      (item) => ({ ok: true as const, text: item.text }),
      (error: Error) => ({ ok: false as const, text: error.message }),
    ),
  ),
);
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
await group.close();
