// npm run bench:readme: runs the end-to-end benchmarks and rewrites the part
// of README.md between <!-- bench:start --> and <!-- bench:end --> with their
// tables, the machine (CPUs from os.cpus()) and the Node and memcached
// versions. Names select benchmarks: npm run bench:readme -- compare.
// Run from bench/ (the npm script does), where the peer clients are installed.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('../bench/', import.meta.url));
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const names = process.argv.length > 2 ? process.argv.slice(2) : ['codec', 'md5', 'ring', 'throughput', 'paired', 'get-or-set', 'large-set', 'multi', 'compare'];

const readme = readFileSync(README, 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) {
  console.error(`README.md has no ${START} ... ${END} section (under "## Benchmarks") to rewrite`);
  process.exit(1);
}

const sections: string[] = [];
for (const name of names) {
  console.error(`running bench/${name}.bench.ts ...`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `${name}.bench.ts`], {
    cwd: BENCH_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) {
    console.error(`bench/${name}.bench.ts exited with ${run.status ?? run.signal}; README.md left as it was`);
    process.exit(1);
  }
  process.stdout.write(run.stdout);
  // Each benchmark prints Markdown: its "###" titles become "####" under the README's own "###".
  sections.push(`\`npm run bench -- ${name}\`:\n\n${run.stdout.trim().replace(/^### /gm, '#### ')}`);
}

const cpuList = cpus();
const models = [...new Set(cpuList.map((c) => c.model.trim()))].join(', ');
const memcached = spawnSync('memcached', ['-V'], { encoding: 'utf8' }).stdout?.trim() || 'memcached (version unknown)';
const machine =
  `${cpuList.length} CPU${cpuList.length === 1 ? '' : 's'} (${models}), ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
  `${process.platform}/${process.arch}; Node ${process.version}; ${memcached} on 127.0.0.1; ${new Date().toISOString().slice(0, 10)}.`;

const body = [
  START,
  '<!-- Written by `npm run bench:readme` (scripts/bench-readme.ts): edit the script, not this section. -->',
  '',
  `\`npm run bench:readme\` reruns these benchmarks and rewrites this section. Measured on ${machine}`,
  '',
  sections.join('\n\n'),
  '',
  END,
].join('\n');

writeFileSync(README, readme.slice(0, from) + body + readme.slice(to + END.length));
console.error(`README.md: benchmark section rewritten (${names.join(', ')})`);
