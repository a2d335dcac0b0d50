// The transcoders' zlib under workerd is CompressionStream (asynchronous):
// run in a child whose `#zlib` is the Workers file (tsconfig.workers-zlib.json),
// the values it compresses PHP and Python read whole from a real server, and
// the values PHP and Python compressed it reads; each encode and decode that
// compresses returns a promise there.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverFixture } from '../support/server-fixture.js';
import { php, python } from './peers.js';

const CHILD = fileURLToPath(new URL('./workers-zlib.child.ts', import.meta.url));
const TSCONFIG = fileURLToPath(new URL('./tsconfig.workers-zlib.json', import.meta.url));

interface ChildResult {
  zlib: string;
  encoded: { hex: string; flags: number; promised: boolean }[];
  decoded: { value: unknown; promised: boolean }[];
}

function child(request: { encode: [string, unknown][]; decode: [string, string, number][] }): ChildResult {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG };
  const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], { input: JSON.stringify(request), encoding: 'utf8', env, timeout: 60_000 });
  if (run.error !== undefined || run.status !== 0) throw new Error(`child failed: ${run.error?.message ?? run.stderr}`);
  return JSON.parse(run.stdout) as ChildResult;
}

const TEXT = 'compressed by CompressionStream, as under workerd. '.repeat(100);
const ROWS = { rows: Array.from({ length: 200 }, (_, i) => ({ id: i, label: 'row' })) };

describe("the transcoders' zlib under workerd (CompressionStream)", () => {
  const fx = serverFixture();

  it('what it compresses (a promise per call) PHP and Python read whole', async () => {
    const result = child({ encode: [['php', TEXT], ['json', ROWS], ['python', TEXT], ['php', 'short']], decode: [] });
    assert.equal(result.zlib, 'streams');
    const [phpText, json, pythonText, short] = result.encoded;
    assert.deepEqual([phpText!.flags, json!.flags, pythonText!.flags, short!.flags], [0x30, 0x36, 24, 0]);
    assert.deepEqual([phpText!.promised, json!.promised, pythonText!.promised], [true, true, true]);
    // Below the threshold nothing is compressed, and nothing waits.
    assert.equal(short!.promised, false);
    await fx.raw.set('w:php', Buffer.from(phpText!.hex, 'hex'), { flags: phpText!.flags });
    await fx.raw.set('w:json', Buffer.from(json!.hex, 'hex'), { flags: json!.flags });
    await fx.raw.set('w:python', Buffer.from(pythonText!.hex, 'hex'), { flags: pythonText!.flags });
    const fromPhp = php({ server: fx.server.address, read: ['w:php', 'w:json'] });
    assert.deepEqual(fromPhp['w:php'], { t: 'string', v: TEXT });
    assert.deepEqual(JSON.parse(fromPhp['w:json']!.v as string), ROWS);
    assert.deepEqual(python({ server: fx.server.address, client: 'pylibmc', read: ['w:python'] })['w:python'], { t: 'str', v: TEXT });
  });

  it('what PHP and pylibmc compressed with zlib it reads', async () => {
    php({ server: fx.server.address, compression: 'zlib', write: { 'p:php': { t: 'string', v: TEXT } } });
    python({ server: fx.server.address, client: 'pylibmc', compress: 100, write: { 'p:python': { t: 'str', v: TEXT } } });
    const fromPhp = (await fx.raw.get('p:php'))!;
    const fromPython = (await fx.raw.get('p:python'))!;
    assert.equal(fromPhp.flags, 0x30);
    assert.equal(fromPython.flags, 24);
    const result = child({
      encode: [],
      decode: [
        ['php', Buffer.from(fromPhp.value).toString('hex'), fromPhp.flags],
        ['python', Buffer.from(fromPython.value).toString('hex'), fromPython.flags],
      ],
    });
    assert.deepEqual(result.decoded, [
      { value: TEXT, promised: true },
      { value: TEXT, promised: true },
    ]);
  });
});
