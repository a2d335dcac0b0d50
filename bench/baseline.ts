// The library as it was at an earlier git revision, loaded beside today's in
// the same process, for paired A/B benchmarks (BASELINE=<rev>): the same
// server, the same rounds, the same JIT warm-up for both.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Group } from '../lib/index.js';

export interface Baseline {
  Group: typeof Group;
  /** Removes the extracted copy. */
  dispose(): void;
}

/** lib/ at `rev`, extracted under bench/.baseline/ (git archive) and imported through tsx. */
export async function baselineLibrary(rev: string): Promise<Baseline> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = fileURLToPath(new URL('./.baseline/', import.meta.url));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-x', '-C', dir], { input: execFileSync('git', ['-C', root, 'archive', rev, 'lib'], { maxBuffer: 64 * 1024 * 1024 }) });
  // '#transport' resolves (through tsconfig paths) to today's transport: point the old lib at its own.
  const options = `${dir}lib/group-options.ts`;
  writeFileSync(options, readFileSync(options, 'utf8').replace("from '#transport'", "from './net/default-transport.js'"));
  const module = (await import(pathToFileURL(`${dir}lib/index.ts`).href)) as { Group: typeof Group };
  return { Group: module.Group, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
