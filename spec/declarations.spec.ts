// The published declarations (tsconfig.build.json) as a consumer's compiler sees them: what they
// name, and that they compile whatever the consumer's lib, with or without Symbol.asyncDispose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function tsc(args: string[], cwd = ROOT): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [TSC, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Every declaration file a consumer's compiler reads, starting from index.d.ts. */
function reachable(file: string, seen = new Map<string, string>()): Map<string, string> {
  if (seen.has(file)) return seen;
  const text = readFileSync(file, 'utf8');
  seen.set(file, text);
  for (const [, path] of text.matchAll(/from '(\.[^']+)\.js'/g)) reachable(resolve(dirname(file), `${path}.d.ts`), seen);
  return seen;
}

const USE = `
import { CacheAPI, Group, type GroupOptions, type SaslCredentials, type TlsOptions } from './dist/index.js';
const tls: TlsOptions = { rejectUnauthorized: true, servername: 'cache.example' };
const sasl: SaslCredentials = { username: 'user', password: 'secret' };
const options: GroupOptions = { tls, sasl, protocol: 'binary' };
const group = new Group(['127.0.0.1:11211'], options);
group.addEventListener('server-down', (event) => {
  const server: string = event.server;
  void server;
});
// @ts-expect-error: not one of the Group's events
group.addEventListener('server-donw', () => {});
// @ts-expect-error: private
void group.pools;
// @ts-expect-error: the pools' health reports are not Group methods
void group.onDown;
void new CacheAPI([], options);
export {};
`;

const DISPOSE = `
import { CacheAPI, Group } from './dist/index.js';
{
  await using group = new Group(['127.0.0.1:11211']);
  await using cache = new CacheAPI([]);
  void group;
  void cache;
}
export {};
`;

/** A consumer's settings: its lib, and whether it has @types/node (else DOM gives EventTarget). */
const CONSUMERS = [
  { lib: ['ES2022', 'DOM'], node: false, disposable: false },
  { lib: ['ES2022'], node: true, disposable: true },
  { lib: ['ESNext', 'DOM'], node: false, disposable: true },
  { lib: ['ESNext'], node: true, disposable: true },
] as const;

describe('the published declarations', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'memring-declarations-'));
    const built = tsc(['-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist'), '--emitDeclarationOnly']);
    assert.equal(built.status, 0, built.output);
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'use.ts'), USE);
    writeFileSync(join(dir, 'dispose.ts'), DISPOSE);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('name neither the internal Pool nor its observer, from index.d.ts down', () => {
    const files = reachable(join(dir, 'dist', 'index.d.ts'));
    assert.ok(files.size > 5);
    for (const [file, text] of files) {
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /\bPool(Options|Observer)?\b|\bon(Down|Up|Failure|ProbeFailed)\b|\bresolveOptions\b/, file);
    }
  });

  for (const consumer of CONSUMERS) {
    const name = `${consumer.lib.join(' + ')}${consumer.node ? ' + @types/node' : ''}`;
    /** Compiles `files` in the consumer's directory under its own tsconfig. */
    const check = (files: string[]): { status: number | null; output: string } => {
      const config = join(dir, `tsconfig.${consumer.lib.join('-')}${consumer.node ? '-node' : ''}.json`);
      const compilerOptions = {
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: consumer.lib,
        types: consumer.node ? ['node'] : [],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      };
      writeFileSync(config, JSON.stringify({ compilerOptions, files }));
      return tsc(['-p', config], dir);
    };

    if (consumer.disposable) {
      it(`compile for a consumer with ${name}, await using included`, () => {
        const checked = check(['use.ts', 'dispose.ts']);
        assert.equal(checked.status, 0, checked.output);
      });
    } else {
      it(`compile for a consumer with ${name}, which has no Symbol.asyncDispose (only its own await using fails)`, () => {
        const alone = check(['use.ts']);
        assert.equal(alone.status, 0, alone.output);
        const checked = check(['use.ts', 'dispose.ts']);
        assert.notEqual(checked.status, 0);
        assert.doesNotMatch(checked.output, /dist\/|use\.ts/, checked.output);
      });
    }
  }
});
