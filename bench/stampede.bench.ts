// Stampedes, one local memcached, 10 Groups standing for 10 processes
// (each its own connection). Counts are what the targets are about; times
// are medians over ROUNDS rounds, each on a fresh key.
//   miss: 10 Groups × 10 concurrent getOrSet on a missing key, 200 ms factory
//         (and the same calls as a naive get → miss → factory → set, for scale);
//         target: the factory runs once and all 100 calls get its value.
//   invalidated: 10 Groups × 5 concurrent getOrSet right after invalidate, 300 ms
//         factory; target: it runs once and ≥ 45 of the 50 get the stale value within 100 ms.
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { ROUNDS } from './harness.js';

const GROUPS = 10;
const server = await MemcachedServer.start();
const groups = Array.from({ length: GROUPS }, () => new Group([server.address], { timeout: 5000 }));
await Promise.all(groups.map((g) => g.noop()));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
let round = 0;

interface Outcome {
  runs: number;
  /** Calls that resolved with the expected value(s). */
  right: number;
  calls: number;
  /** ms until the last call settled. */
  allMs: number;
  /** Calls settled within 100 ms with the stale value (invalidated case). */
  staleFast: number;
}

async function missRound(naive: boolean): Promise<Outcome> {
  const key = `bench:stampede:${process.pid}:${round++}`;
  let runs = 0;
  const factory = async (): Promise<string> => {
    runs++;
    await sleep(200);
    return 'loaded';
  };
  const start = performance.now();
  const calls = groups.flatMap((g) =>
    Array.from({ length: 10 }, async () => {
      if (!naive) return (await g.getOrSet(key, factory, { expires: 60 })).text;
      const hit = await g.get(key);
      if (hit !== null) return hit.text;
      const value = await factory();
      await g.set(key, value, { expires: 60 });
      return value;
    }),
  );
  const texts = await Promise.all(calls);
  return { runs, right: texts.filter((t) => t === 'loaded').length, calls: texts.length, allMs: performance.now() - start, staleFast: 0 };
}

async function invalidatedRound(): Promise<Outcome> {
  const key = `bench:stampede:${process.pid}:${round++}`;
  await groups[0]!.set(key, 'stale', { expires: 600 });
  await groups[0]!.invalidate(key);
  let runs = 0;
  const factory = async (): Promise<string> => {
    runs++;
    await sleep(300);
    return 'fresh';
  };
  const start = performance.now();
  let staleFast = 0;
  const calls = groups.flatMap((g) =>
    Array.from({ length: 5 }, () =>
      g.getOrSet(key, factory, { expires: 60 }).then((item) => {
        if (item.text === 'stale' && performance.now() - start <= 100) staleFast++;
        return item.text;
      }),
    ),
  );
  const texts = await Promise.all(calls);
  const right = texts.filter((t) => t === 'stale' || t === 'fresh').length;
  return { runs, right, calls: texts.length, allMs: performance.now() - start, staleFast };
}

const cases: [string, () => Promise<Outcome>][] = [
  ['miss, getOrSet (10 × 10, 200 ms factory)', () => missRound(false)],
  ['miss, naive get/set (10 × 10, 200 ms factory)', () => missRound(true)],
  ['invalidated, getOrSet (10 × 5, 300 ms factory)', invalidatedRound],
];
const results = cases.map(() => [] as Outcome[]);
for (let r = 0; r < ROUNDS; r++) for (const [i, [, run]] of cases.entries()) results[i]!.push(await run());

console.log(`\n### Stampedes: ${GROUPS} Groups (as 10 processes) on one key, ${ROUNDS} rounds\n`);
console.log('| case | factory runs (max of rounds) | calls with the value (min) | stale within 100 ms (min) | all settled, ms (median) |');
console.log('|---|---:|---:|---:|---:|');
for (const [i, [name]] of cases.entries()) {
  const rows = results[i]!;
  const calls = rows[0]!.calls;
  const stale = name.startsWith('invalidated') ? `${Math.min(...rows.map((o) => o.staleFast))} / ${calls}` : '–';
  console.log(
    `| ${name} | ${Math.max(...rows.map((o) => o.runs))} | ${Math.min(...rows.map((o) => o.right))} / ${calls} | ${stale} | ${median(rows.map((o) => o.allMs)).toFixed(0)} |`,
  );
}

await Promise.all(groups.map((g) => g.close()));
await server.stop();
