// The packed package, installed unchanged in a fresh folder, runs one workload
// (spec/runtimes/workload.mjs) in every runtime memring supports, against real
// memcached: Node 20 (this process's), 22 and 24, Bun, Deno, and workerd with
// and without nodejs_compat, bundled as wrangler bundles a Worker. The
// runtimes are pinned in scripts/runtimes/package.json and installed there
// on first use (npm ci).
//
// `npm run test:runtimes`, the last step of `npm test`. Not a .spec.ts: it
// runs alone after the suite, so its builds and runtimes do not load the CPU
// under the timing-sensitive specs, and outside c8, which cannot see into
// other runtimes anyway.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { certificates } from './support/certificates.js';
import { MemcachedServer } from './support/memcached.js';

const PROTOCOLS = ['meta', 'binary'] as const;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOOLCHAIN = join(ROOT, 'scripts', 'runtimes');
const MODULES = join(TOOLCHAIN, 'node_modules');
const APP_FILES = join(ROOT, 'spec', 'runtimes');

const NODE22 = join(MODULES, 'node22', 'bin', 'node');
const NODE24 = join(MODULES, 'node24', 'bin', 'node');
const BUN = join(MODULES, '.bin', 'bun');
const DENO = join(MODULES, '.bin', 'deno');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Children report no coverage into this process's c8 run, and run with their own options.
    const base = { ...process.env };
    delete base.NODE_V8_COVERAGE;
    delete base.NODE_OPTIONS;
    const child = spawn(command, args, { cwd, env: { ...base, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function mustRun(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv, timeout?: number): Promise<string> {
  const result = await run(command, args, cwd, env, timeout);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** The last line a runtime printed, as JSON; the whole output when it is not. */
function lastJson(result: Run): any {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`exit ${result.code}, no JSON result\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

/** Installs scripts/runtimes unless every runtime there is at its locked version. */
async function ensureRuntimes(): Promise<void> {
  const lock = JSON.parse(readFileSync(join(TOOLCHAIN, 'package-lock.json'), 'utf8')).packages as Record<string, { version: string }>;
  const wanted = ['node22', 'node24', 'bun', 'deno', 'esbuild', 'miniflare', 'workerd'];
  const current = wanted.every((name) => {
    const file = join(MODULES, name, 'package.json');
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).version === lock[`node_modules/${name}`]?.version;
  });
  if (!current) await mustRun('npm', ['ci', '--no-audit', '--no-fund'], TOOLCHAIN, {}, 300_000);
}

/** Builds and packs the working tree in a copy (the tree's own dist/ is left alone); returns the tarball. */
async function pack(work: string): Promise<string> {
  const source = join(work, 'source');
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'lib']) {
    cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  await mustRun(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], source);
  const packed = JSON.parse(await mustRun('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], source));
  return join(work, packed[0].filename);
}

/** A fresh app with the tarball installed as a user would, and the workload beside it. */
async function install(work: string, tarball: string): Promise<string> {
  const app = join(work, 'app');
  cpSync(APP_FILES, app, { recursive: true, filter: (path) => !path.endsWith('.ts') });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ private: true, type: 'module', dependencies: { memring: pathToFileURL(tarball).href } }),
  );
  await mustRun('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  return app;
}

describe('the packed package in every runtime', { timeout: 600_000 }, () => {
  let work: string;
  let app: string;
  let servers: MemcachedServer[];
  let tlsServer: MemcachedServer;
  let caFile: string;
  let CHECKS: string[];
  let CALLS: Record<string, number>;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'memring-runtimes-'));
    const [tarball] = await Promise.all([pack(work), ensureRuntimes()]);
    app = await install(work, tarball);
    ({ CHECKS, CALLS } = (await import(pathToFileURL(join(app, 'workload.mjs')).href)) as { CHECKS: string[]; CALLS: Record<string, number> });
    const tls = certificates();
    caFile = join(tls.dir, 'ca.pem');
    servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
    tlsServer = await MemcachedServer.start({ tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile } });
  });

  after(async () => {
    await Promise.all([...(servers ?? []), tlsServer].filter((s) => s !== undefined).map((s) => s.stop()));
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  const addresses = (): string => servers.map((s) => s.address).join(',');

  /** Every call of the workload was published on `memring:command`, started and settled once, none failed. */
  function assertTraced(tracing: { start: number; asyncEnd: number; error: number; operations: Record<string, number> } | null, label: string): void {
    assert.ok(tracing !== null, `${label}: node:diagnostics_channel missing`);
    const calls = Object.values(CALLS).reduce((a, b) => a + b, 0);
    assert.deepEqual(tracing.operations, CALLS, label);
    assert.equal(tracing.start, calls, label);
    assert.equal(tracing.asyncEnd, calls, label);
    assert.equal(tracing.error, 0, label);
  }

  /** Runs the workload over each protocol; resolves to the runtime's name. */
  async function workload(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    let runtime = '';
    for (const protocol of PROTOCOLS) {
      const result = await run(command, [...args, 'main.mjs', addresses(), `${name}-${protocol}`, protocol], app, env);
      const out = lastJson(result);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(out.checks, CHECKS, protocol);
      assertTraced(out.tracing, protocol);
      runtime = out.runtime;
    }
    return runtime;
  }

  describe('Node, Bun and Deno (node:net through the default condition)', () => {
    it('Node 20, the machine’s', async () => {
      assert.match(await workload('node20', process.execPath, []), /^node v20\./);
    });

    it('Node 22', async () => {
      assert.match(await workload('node22', NODE22, []), /^node v22\./);
    });

    it('Node 24', async () => {
      assert.match(await workload('node24', NODE24, []), /^node v24\./);
    });

    it('Bun', async () => {
      assert.match(await workload('bun', BUN, [], { DO_NOT_TRACK: '1' }), /^bun 1\./);
    });

    it('Deno, with network access to 127.0.0.1 only', async () => {
      const env = { DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(work, 'deno') };
      assert.match(await workload('deno', DENO, ['run', '--allow-net=127.0.0.1'], env), /^deno 2\./);
    });
  });

  for (const compat of ['off', 'on'] as const) {
    describe(`workerd ${compat === 'on' ? 'with' : 'without'} nodejs_compat (cloudflare:sockets through the workerd condition)`, () => {
      let bundleImports: string[];
      let responses: { status: number; body: any }[];

      before(async () => {
        const [a] = servers.map((s) => s.address);
        const paths = [
          `/?servers=${addresses()}&prefix=workerd-${compat}-meta&protocol=meta`,
          '/limit',
          `/tls?server=${tlsServer.address}`,
          `/tls-ca?server=${tlsServer.address}`,
          `/refused?server=127.0.0.1:1`,
          `/shared?servers=${a}`,
          `/shared?servers=${a}`,
          `/?servers=${addresses()}&prefix=workerd-${compat}-binary&protocol=binary`,
        ];
        // miniflare has workerd trust NODE_EXTRA_CA_CERTS, as a deployed Worker trusts public CAs.
        const result = await run(NODE24, [join(TOOLCHAIN, 'workerd.mjs'), join(app, 'worker.mjs'), compat, ...paths], app, {
          NODE_EXTRA_CA_CERTS: caFile,
        });
        ({ imports: bundleImports, responses } = lastJson(result));
      });

      it('the bundle imports cloudflare:sockets and no node:* module', () => {
        assert.deepEqual(bundleImports, ['cloudflare:sockets']);
      });

      it('runs the workload in a Group made and closed per request, over meta and over binary', () => {
        for (const { status, body } of [responses[0]!, responses[7]!]) {
          assert.equal(status, 200, JSON.stringify(body));
          assert.equal(body.runtime, 'Cloudflare-Workers');
          assert.deepEqual(body.checks, CHECKS);
          // Writes are flushed by setImmediate where the runtime has it (nodejs_compat), by a microtask elsewhere.
          assert.equal(body.setImmediate, compat === 'on' ? 'function' : 'undefined');
          // Traced with nodejs_compat (the runtime's node:diagnostics_channel); without it there is no channel to subscribe to.
          if (compat === 'on') assertTraced(body.tracing, `workerd ${body.checks.length}`);
          else assert.equal(body.tracing, null);
        }
      });

      it('refuses a Group of more sockets than a request may hold (MC_ERR_BAD_CONFIG)', () => {
        assert.equal(responses[1]!.status, 500);
        assert.equal(responses[1]!.body.code, 'MC_ERR_BAD_CONFIG');
        assert.match(responses[1]!.body.message, /7 sockets.*at most 6/);
      });

      it('tls: true is a verified TLS socket (secureTransport "on")', () => {
        assert.deepEqual(responses[2], { status: 200, body: { got: 'over TLS' } });
      });

      it('a TLS setting Workers cannot honour is refused at construction, not ignored', () => {
        assert.equal(responses[3]!.status, 500);
        assert.equal(responses[3]!.body.code, 'MC_ERR_BAD_CONFIG');
        assert.match(responses[3]!.body.message, /cannot honour ca/);
      });

      it('a server that is not listening rejects with MC_ERR_CONNECT', () => {
        assert.equal(responses[4]!.body.code, 'MC_ERR_CONNECT');
      });

      it('a Group kept across requests fails in the second: its socket belonged to the first', () => {
        assert.deepEqual(responses[5], { status: 200, body: { got: 'across requests' } });
        assert.equal(responses[6]!.body.code, 'MC_ERR_CONN_CLOSED');
        assert.match(responses[6]!.body.message, /different request/);
      });
    });
  }
});
