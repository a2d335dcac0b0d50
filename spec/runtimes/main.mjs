// Node, Bun and Deno: `<runtime> main.mjs host:port,host:port prefix protocol`. Prints one JSON line.
import { Group } from 'memring';
import { workload } from './workload.mjs';
import { traceCommands } from './tracing.mjs';

const [servers, prefix, protocol] = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const runtime = globalThis.Deno
  ? `deno ${globalThis.Deno.version.deno}`
  : globalThis.Bun
    ? `bun ${globalThis.Bun.version}`
    : `node ${process.version}`;

const group = new Group(servers.split(','), { timeout: 5000, protocol });
try {
  const trace = traceCommands();
  const checks = await workload(group, prefix);
  trace.stop();
  console.log(JSON.stringify({ runtime, checks, tracing: trace.counts }));
} finally {
  await group.close();
}
