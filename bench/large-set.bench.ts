// Set throughput of large Uint8Array values (100 KB and 1 MB) on one
// connection to one local memcached (-I 2m), a few in flight: what the copy
// the writer takes of a value of 16 KiB or more costs where it is biggest.
//
// BASELINE=<git rev> adds, interleaved in the same process and against the
// same server, the same sets through lib/ as it was at <rev> (extracted under
// bench/.baseline/ and removed after): a paired A/B, e.g. BASELINE=04fadde~
// for the library before it copied large values.
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { baselineLibrary, type Baseline } from './baseline.js';
import { interleaved, ROUNDS, type Measurement } from './harness.js';

const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 4);
/** Each round stops at this many sets per size, or after ROUND_MS, whichever comes first. */
const MAX_BYTES = Number(process.env['MAX_BYTES'] ?? 1e9);
const ROUND_MS = Number(process.env['ROUND_MS'] ?? 2000);
const SIZES = [100_000, 1_000_000];
const BASELINE = process.env['BASELINE'];

interface Setter {
  set(key: string, value: Uint8Array): Promise<boolean>;
  close(): Promise<void>;
}

/** Sets `value` until `count` are done or `ms` pass, IN_FLIGHT at a time, each worker on its own key; resolves to the sets done. */
async function sets(group: Setter, value: Uint8Array, count: number, ms: number): Promise<number> {
  const stop = performance.now() + ms;
  let left = count;
  let done = 0;
  const worker = async (w: number): Promise<void> => {
    const key = `bench:large-set:${value.length}:${w}`;
    while (left > 0 && performance.now() < stop) {
      left--;
      if (!(await group.set(key, value))) throw new Error(`set of ${value.length} bytes refused`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
  return done;
}

const server = await MemcachedServer.start({ args: ['-t', '1', '-I', '2m', '-m', '256'] });
const options = { maxValueSize: 2 * 1024 * 1024, timeout: 5000 };
const groups: [string, Setter][] = [['memring', new Group([server.address], options)]];
let baseline: Baseline | null = null;
if (BASELINE !== undefined) {
  baseline = await baselineLibrary(BASELINE);
  groups.push([`lib at ${BASELINE}`, new baseline.Group([server.address], options)]);
}

const cases: [string, () => Promise<number>][] = [];
const bytesOf = new Map<string, number>();
for (const size of SIZES) {
  const value = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  const count = Math.max(IN_FLIGHT, Math.round(MAX_BYTES / size));
  for (const [label, group] of groups) {
    const name = `${label} set, ${size / 1000} KB`;
    bytesOf.set(name, size);
    cases.push([name, () => sets(group, value, count, ROUND_MS)]);
  }
}

let rows: Measurement[];
try {
  rows = await interleaved(cases);
} finally {
  await Promise.all(groups.map(([, g]) => g.close()));
  await server.stop();
  baseline?.dispose();
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

console.log(
  `\n### set of large Uint8Array values, 1 connection, ${IN_FLIGHT} in flight (median of ${ROUNDS} interleaved rounds)\n`,
);
console.log(`| case | ops/s | MB/s |${BASELINE === undefined ? '' : ` vs lib at ${BASELINE} |`}`);
console.log(`|---|---:|---:|${BASELINE === undefined ? '' : '---:|'}`);
for (const [i, row] of rows.entries()) {
  const mbs = (row.opsPerSec * bytesOf.get(row.name)!) / 1e6;
  // With a baseline, rows come in pairs per size: this library's, then the baseline's.
  const base = BASELINE === undefined ? null : rows[i - (i % 2) + 1]!;
  const ratio = base === null ? '' : ` ${fmt(row.opsPerSec / base.opsPerSec, 2)}x |`;
  console.log(`| ${row.name} | ${fmt(row.opsPerSec)} | ${fmt(mbs)} |${ratio}`);
}
