import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { memring } from './run.js';

const COMMANDS = ['bench', 'ring', 'get', 'set', 'delete', 'incr', 'decr', 'stats', 'version', 'flush'];

describe('memring: help', () => {
  it('lists every command and the exit codes with --help, exit 0', async () => {
    const r = await memring(['--help']);
    assert.equal(r.code, 0);
    for (const command of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${command} `, 'm'), command);
    assert.match(r.stdout, /Exit codes: 0 ok; 1 an operation failed/);
    assert.equal(r.stderr, '');
  });

  for (const command of COMMANDS) {
    it(`${command} --help prints its usage and options, exit 0`, async () => {
      const r = await memring([command, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: memring ${command} `));
      assert.match(r.stdout, /--servers/);
      assert.match(r.stdout, /-h, --help/);
      const viaHelp = await memring(['help', command]);
      assert.equal(viaHelp.stdout, r.stdout);
    });
  }

  it('prints the package version with --version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await memring(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });
});

describe('memring: usage errors exit 2 with a clear message and nothing on stdout', () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /Usage: memring <command>/],
    ['an unknown command', ['fetch', 'k'], /unknown command "fetch"/],
    ['help for an unknown command', ['help', 'fetch'], /unknown command "fetch"/],
    ['an unknown option', ['get', '--bogus', 'k'], /Unknown option '--bogus'[\s\S]*memring get --help/],
    ['a missing key', ['get'], /missing KEY/],
    ['a key with a space', ['get', 'a b'], /MC_ERR_BAD_KEY/],
    ['a key over 250 bytes', ['set', 'k'.repeat(251), 'v'], /MC_ERR_BAD_KEY/],
    ['a bad server', ['get', '--servers', '127.0.0.1:99999', 'k'], /--servers: port out of range/],
    ['an IPv6 server without brackets', ['version', '-s', '::1:11211'], /brackets/],
    ['a server listed twice', ['version', '-s', '127.0.0.1:1,127.0.0.1:1'], /MC_ERR_BAD_CONFIG/],
    ['an unknown distribution', ['ring', '-d', 'crc32', 'k'], /--distribution must be one of ketama/],
    ['an unknown protocol', ['get', '--protocol', 'text2', 'k'], /--protocol must be one of meta, binary/],
    ['a negative --expires', ['set', 'k', 'v', '--expires=-1'], /--expires must be an integer from 0/],
    ['flags over 32 bits', ['set', 'k', 'v', '--flags', '4294967296'], /--flags must be an integer/],
    ['a delta that is not a number', ['incr', 'k', 'ten'], /DELTA must be an integer/],
    ['--expires on a counter without --initial', ['incr', 'k', '--expires', '5'], /--expires needs --initial/],
    ['too many arguments', ['set', 'k', 'v', 'w'], /unexpected argument "w"/],
    ['a bad timeout', ['get', 'k', '--timeout', '0'], /--timeout must be an integer from 1/],
    ['bench with --duration and --ops', ['bench', '--duration', '1', '--ops', '5'], /--duration or --ops, not both/],
    ['bench with zero concurrency', ['bench', '--concurrency', '0'], /--concurrency must be an integer from 1/],
    ['bench with a duration that is not a number', ['bench', '--duration', 'soon'], /--duration must be a number/],
    ['bench with a bad mix', ['bench', '--mix', '9'], /--mix must be GET:SET/],
    ['bench with a 0:0 mix', ['bench', '--mix', '0:0'], /--mix must be GET:SET/],
    ['bench with an unknown comparison', ['bench', '--compare', 'memjs'], /--compare takes "raw"/],
    ['bench with --multi 0', ['bench', '--multi', '0'], /--multi must be an integer from 1/],
    ['ring removing a server not listed', ['ring', '-s', 'a,b', '--remove', 'c'], /--remove c: not in --servers/],
    ['ring adding a server already listed', ['ring', '-s', 'a,b', '--add', 'b:11211'], /--add b:11211: already in the list/],
    ['ring removing every server', ['ring', '-s', 'a', '--remove', 'a'], /would leave no server/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: memring ${args.join(' ')}`, async () => {
      const r = await memring(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      // One line, plus the pointer to --help (a bare `memring` prints the whole usage).
      if (args.length > 0) assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
      assert.equal(r.stdout, '');
    });
  }
});
