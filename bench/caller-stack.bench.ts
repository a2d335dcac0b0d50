// What caller stacks cost a call that succeeds: one promise reaction per
// single-key call. get at 64 in flight on one server, callerStacks on (the
// default) against off, interleaved, with Node's CPU per get.
import { Group } from '../lib/index.js';
import { MemcachedServer } from '../spec/support/memcached.js';
import { inFlight, interleavedWithCpu, ROUNDS } from './harness.js';

const OPS = Number(process.env['OPS'] ?? 100_000);
const server = await MemcachedServer.start({ args: ['-t', '1'] });
const rows: string[] = [];
for (const protocol of ['meta', 'binary'] as const) {
  const on = new Group(server.address, { protocol });
  const off = new Group(server.address, { protocol, callerStacks: false });
  await on.set('bench:stack', 'v'.repeat(100));
  const [withStacks, without] = await interleavedWithCpu([
    [`get, callerStacks on, ${protocol}`, () => inFlight(64, OPS, () => on.get('bench:stack'))],
    [`get, callerStacks off, ${protocol}`, () => inFlight(64, OPS, () => off.get('bench:stack'))],
  ]);
  rows.push(
    `| ${protocol} | ${Math.round(withStacks!.opsPerSec).toLocaleString('en-US')} | ${Math.round(without!.opsPerSec).toLocaleString('en-US')} | ` +
      `${(without!.nsPerOp / withStacks!.nsPerOp).toFixed(3)} | ${(withStacks!.cpuNsPerOp / without!.cpuNsPerOp).toFixed(3)} |`,
  );
  await on.close();
  await off.close();
}
console.log(`\n### Caller stacks: get at 64 in flight, 1 server (median of ${ROUNDS} interleaved rounds)\n`);
console.log('| protocol | on: ops/s | off: ops/s | on / off (rate) | on / off (CPU per get) |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
await server.stop();
