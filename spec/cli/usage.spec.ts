import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { cleanEnv, memring } from './run.js';

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
      // Every command that talks to servers says how to reach secured ones; ring only computes.
      if (command !== 'ring') assert.match(r.stdout, /--tls-ca FILE[\s\S]*--sasl-user USER[\s\S]*MEMRING_PASSWORD/);
      if (command !== 'ring') assert.match(r.stdout, /MEMCACHED_SERVERS/);
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
  const cases: [string, string[], RegExp, NodeJS.ProcessEnv?][] = [
    ['no command', [], /Usage: memring <command>/],
    ['an unknown command', ['fetch', 'k'], /unknown command "fetch"/],
    ['help for an unknown command', ['help', 'fetch'], /unknown command "fetch"/],
    ['an unknown option', ['get', '--bogus', 'k'], /^memring get: unknown option --bogus \(an argument that begins with "-" but is not an option goes after "--"\)\n.*memring get --help/],
    ['an option without its value', ['get', 'k', '--servers'], /^memring get: --servers needs a value\n/],
    ['an option value that looks like an option', ['set', 'k', 'v', '--expires', '-5'], /^memring set: --expires needs a value, and -5 looks like an option; if it is the value, write --expires=-5\n/],
    ['a short option value that looks like an option', ['get', '-s', '--json', 'k'], /^memring get: --servers needs a value, and --json looks like an option; if it is the value, write --servers=--json\n/],
    ['a value given to a flag', ['get', '--json=yes', 'k'], /^memring get: --json takes no value\n/],
    ['a password option (there is none: MEMRING_PASSWORD)', ['get', 'k', '--sasl-password', 'x'], /unknown option --sasl-password/],
    ['--sasl-user without MEMRING_PASSWORD', ['get', 'k', '--sasl-user', 'app'], /--sasl-user needs the password in the MEMRING_PASSWORD environment variable/],
    ['an empty --sasl-user', ['version', '--sasl-user='], /--sasl-user needs a user name/],
    ['a --tls-ca file that is not there', ['get', 'k', '--tls-ca', '/nonexistent/ca.pem'], /--tls-ca \/nonexistent\/ca\.pem: cannot read it \(ENOENT\)/],
    ['a --tls-ca file without a certificate', ['get', 'k', '--tls-ca', 'package.json'], /--tls-ca package\.json: no PEM certificate in it/],
    ['an unknown stats group', ['stats', 'nosuchgroup'], /unknown stats group "nosuchgroup"; give one of settings, items, slabs, sizes, conns/],
    ['a relative --expires over 30 days', ['set', 'k', 'v', '--expires', '2592001'], /--expires 2592001 is over 30 days, so memcached would read it as a Unix time \(1970-01-31, already past\).*give at most 2592000 seconds, or an absolute Unix time to come/],
    ['a counter --expires over 30 days', ['incr', 'k', '-i', '1', '-e', '31536000'], /--expires 31536000 is over 30 days.*at most 2592000/],
    ['a bad MEMCACHED_SERVERS', ['version'], /MEMCACHED_SERVERS: port out of range/, { MEMCACHED_SERVERS: '127.0.0.1:11211 127.0.0.1:99999' }],
    ['bench --compare raw with sets in the mix', ['bench', '--compare', 'raw', '--mix', '9:1'], /--compare raw measures gets only \(the raw sockets send nothing else\): leave out --mix or give --mix 1:0, not 9:1/],
    ['bench --compare raw with --multi', ['bench', '--compare', 'raw', '--multi', '10'], /--compare raw sends single gets: it cannot be combined with --multi/],
    ['bench --compare raw with --tls', ['bench', '-s', '127.0.0.1:1', '--compare', 'raw', '--tls'], /--compare raw uses plain sockets without authentication/],
    ['bench --tls without servers', ['bench', '--tls'], /--tls and --sasl-user need --servers \(or \$MEMCACHED_SERVERS\)/],
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
  for (const [name, args, message, env] of cases) {
    it(`${name}: memring ${args.join(' ')}`, async () => {
      const r = await memring(args, { env: cleanEnv(env) });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      // One line, plus the pointer to --help (a bare `memring` prints the whole usage).
      if (args.length > 0) assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
      assert.equal(r.stdout, '');
    });
  }
});
