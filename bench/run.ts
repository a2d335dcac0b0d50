// `npm run bench`: runs every bench/*.bench.ts in its own process (one JIT per
// file, so one benchmark's warm-up does not colour the next) and prints the
// Markdown tables they produce. Pass names to run a subset: `npm run bench -- codec`.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

console.log(`# memring benchmarks\n\nNode ${process.version}, ${process.platform}/${process.arch}`);
let failed = 0;
for (const file of files) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: here, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`${file} exited with ${result.status}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
