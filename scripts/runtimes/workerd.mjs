// Bundles a Worker the way wrangler does (esbuild, conditions workerd, worker,
// browser; cloudflare:* left to the runtime) and sends it requests through
// miniflare's workerd. Run with Node 22 or later (miniflare's floor):
//
//   node workerd.mjs <worker.mjs> <compat: on|off> <path?query>...
//
// Prints one JSON line: the bundle's runtime imports, then each response.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const [entry, compat, ...paths] = process.argv.slice(2);
if (entry === undefined || (compat !== 'on' && compat !== 'off') || paths.length === 0) {
  console.error('usage: node workerd.mjs <worker.mjs> <on|off> <path?query>...');
  process.exit(2);
}

const out = mkdtempSync(join(tmpdir(), 'memring-worker-'));
const script = join(out, 'worker.js');
let mf;
try {
  const bundle = await build({
    entryPoints: [resolve(entry)],
    outfile: script,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    metafile: true,
    logLevel: 'silent',
  });
  const imports = Object.values(bundle.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));

  mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: out,
    // Within the bundled workerd's range; recent enough that nodejs_compat is its v2.
    compatibilityDate: '2026-07-01',
    compatibilityFlags: compat === 'on' ? ['nodejs_compat'] : [],
    host: '127.0.0.1',
    port: 0,
  });
  const responses = [];
  for (const path of paths) {
    const response = await mf.dispatchFetch(`http://worker.test${path}`);
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    responses.push({ status: response.status, body });
  }
  console.log(JSON.stringify({ imports, responses }));
} finally {
  await mf?.dispose();
  rmSync(out, { recursive: true, force: true });
}
