// Paired A/B of the hot path against an earlier revision of the library:
// get and set of 100-byte values, one connection, 64 in flight, through
// today's lib/ and lib/ at BASELINE, interleaved in one process against one
// server. The default baseline is ee7d679, the library before the
// protocol-neutral core and meta (when binary was all it spoke), with
// PROTOCOL=binary: whether binary lost anything to the redesign.
//   BASELINE=<rev> PROTOCOL=meta|binary|text npm run bench -- paired
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { baselineLibrary } from './baseline.js';
import { inFlight, interleaved, ROUNDS } from './harness.js';

const BASELINE = process.env['BASELINE'] ?? 'ee7d679';
const PROTOCOL = (process.env['PROTOCOL'] ?? 'binary') as 'meta' | 'binary' | 'text';
const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 64);
const OPS = Number(process.env['OPS'] ?? 60_000);
const KEYS = 4096;

const server = await MemcachedServer.start({ args: ['-t', '1'] });
const baseline = await baselineLibrary(BASELINE);
// A revision from before the protocol option ignores it (it spoke binary only).
const groups: [string, Group][] = [
  ['today', new Group([server.address], { protocol: PROTOCOL })],
  [BASELINE, new baseline.Group([server.address], { protocol: PROTOCOL })],
];
const keys = Array.from({ length: KEYS }, (_, i) => `bench:paired:${i}`);
const value = 'v'.repeat(100);
for (const key of keys) await groups[0]![1].set(key, value);
let next = 0;
const key = (): string => keys[next++ & (KEYS - 1)]!;

const cases: [string, () => Promise<number>][] = [];
for (const op of ['get', 'set'] as const) {
  for (const [label, group] of groups) {
    const call = op === 'get' ? () => group.get(key()) : () => group.set(key(), value);
    cases.push([`${op}, ${label}`, () => inFlight(IN_FLIGHT, OPS, call)]);
  }
}
try {
  const rows = await interleaved(cases);
  console.log(`\n### ${PROTOCOL}: today against lib at ${BASELINE}, 1 connection, ${IN_FLIGHT} in flight, 100-byte values (median of ${ROUNDS} interleaved rounds)\n`);
  console.log('| operation | today ns/op | baseline ns/op | today rate / baseline rate |\n|---|---:|---:|---:|');
  for (let i = 0; i < rows.length; i += 2) {
    const [today, base] = [rows[i]!, rows[i + 1]!];
    console.log(`| ${today.name.split(',')[0]} | ${today.nsPerOp.toFixed(0)} | ${base.nsPerOp.toFixed(0)} | ${(base.nsPerOp / today.nsPerOp).toFixed(3)} |`);
  }
} finally {
  await Promise.all(groups.map(([, group]) => group.close()));
  await server.stop();
  baseline.dispose();
}
