// The configuration endpoint's replies, read strictly: what ElastiCache documents is
// accepted, byte by byte as it arrives; anything else is a typed error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, MemcacheError } from '../../lib/index.js';
import { parseClusterConfig, readConfigAnswer, type ConfigCommand } from '../../lib/discovery/cluster-config.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function reply(command: ConfigCommand, data: string): string {
  const header = command === 'config' ? 'CONFIG cluster' : 'VALUE AmazonElastiCache:cluster';
  return `${header} 0 ${Buffer.byteLength(data)}\r\n${data}\r\nEND\r\n`;
}

// Parsed only, never connected to: the addresses are loopback all the same.
const DATA =
  '12\nmycluster.abc123.0001.use1.cache.amazonaws.com|127.0.82.120|11211 ' +
  'mycluster.abc123.0002.use1.cache.amazonaws.com|127.0.80.27|11211\n';

function code(expected: string, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof MemcacheError, `not a MemcacheError: ${String(error)}`);
    assert.equal(error.code, expected);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

describe('a config get cluster reply', () => {
  it('gives the version and the nodes, in order, each with what is connected to', () => {
    const answer = readConfigAnswer(bytes(reply('config', DATA)), 'config');
    assert.deepEqual(answer, {
      kind: 'cluster',
      config: {
        version: 12,
        nodes: [
          { hostname: 'mycluster.abc123.0001.use1.cache.amazonaws.com', ip: '127.0.82.120', port: 11211, address: '127.0.82.120:11211' },
          { hostname: 'mycluster.abc123.0002.use1.cache.amazonaws.com', ip: '127.0.80.27', port: 11211, address: '127.0.80.27:11211' },
        ],
      },
    });
  });

  it('is read only once complete, whatever the split (null before, the same answer at the end)', () => {
    const whole = bytes(reply('config', DATA));
    const expected = readConfigAnswer(whole, 'config');
    for (let cut = 0; cut < whole.length; cut++) {
      assert.equal(readConfigAnswer(whole.subarray(0, cut), 'config'), null, `cut at ${cut}`);
    }
    assert.deepEqual(readConfigAnswer(whole, 'config'), expected);
  });

  it('takes a node without an ip: the hostname is then what is connected to', () => {
    const answer = readConfigAnswer(bytes(reply('config', '3\nnode1.local||11212\n')), 'config');
    assert.deepEqual(answer?.kind === 'cluster' && answer.config.nodes, [{ hostname: 'node1.local', ip: '', port: 11212, address: 'node1.local:11212' }]);
  });

  it('takes an IPv6 ip (the address in brackets) and a data block without its final newline', () => {
    const config = parseClusterConfig('4\nnode1.local|::1|11211');
    assert.deepEqual(config.nodes, [{ hostname: 'node1.local', ip: '::1', port: 11211, address: '[::1]:11211' }]);
  });

  it('is ERROR from an engine before 1.4.14, and END alone from a server without the item', () => {
    assert.deepEqual(readConfigAnswer(bytes('ERROR\r\n'), 'config'), { kind: 'unknown-command' });
    assert.deepEqual(readConfigAnswer(bytes('END\r\n'), 'get'), { kind: 'miss' });
    assert.equal(readConfigAnswer(bytes('ERR'), 'config'), null);
  });
});

describe('a get AmazonElastiCache:cluster reply', () => {
  it('is a classic VALUE reply holding the same data', () => {
    const answer = readConfigAnswer(bytes(reply('get', DATA)), 'get');
    assert.equal(answer?.kind, 'cluster');
    assert.deepEqual(answer, readConfigAnswer(bytes(reply('config', DATA)), 'config'));
  });

  it('is not taken for the other command (each header belongs to its question)', () => {
    assert.throws(() => readConfigAnswer(bytes(reply('get', DATA)), 'config'), code(ErrorCode.PROTOCOL, /unexpected reply line/));
    assert.throws(() => readConfigAnswer(bytes(reply('config', DATA)), 'get'), code(ErrorCode.PROTOCOL, /unexpected reply line/));
  });
});

describe('a reply that is not a valid configuration', () => {
  const refused: [string, string, RegExp][] = [
    ['a version that is not a number', '1x\nnode1.local|127.0.0.1|11211\n', /bad configuration version/],
    ['no version line', 'node1.local|127.0.0.1|11211', /no node line/],
    ['no nodes', '5\n\n', /lists no nodes/],
    ['a node with two fields', '5\nnode1.local|11211\n', /not hostname\|ip\|port/],
    ['a node with four fields', '5\nnode1.local|127.0.0.1|11211|x\n', /not hostname\|ip\|port/],
    ['an empty hostname', '5\n|127.0.0.1|11211\n', /no hostname/],
    ['a bad ip', '5\nnode1.local|127.0.0.256|11211\n', /bad ip/],
    ['a port of 0', '5\nnode1.local|127.0.0.1|0\n', /bad node/],
    ['a port over 65535', '5\nnode1.local|127.0.0.1|65536\n', /bad node/],
    ['a port that is not a number', '5\nnode1.local|127.0.0.1|http\n', /bad port/],
    ['a hostname with a slash', '5\nnode/1|127.0.0.1|11211\n', /bad node/],
    ['two spaces between nodes', '5\na.local|127.0.0.1|11211  b.local|127.0.0.2|11211\n', /not hostname\|ip\|port/],
    ['a node listed twice', '5\na.local|127.0.0.1|11211 A.LOCAL|127.0.0.2|11211\n', /listed twice/],
    ['two nodes at one address', '5\na.local|127.0.0.1|11211 b.local|127.0.0.1|11211\n', /listed twice/],
    ['a third line', '5\na.local|127.0.0.1|11211\nmore\n', /more than two lines/],
  ];
  for (const [what, data, message] of refused) {
    it(`refuses ${what} with MC_ERR_PROTOCOL`, () => {
      assert.throws(() => readConfigAnswer(bytes(reply('config', data)), 'config'), code(ErrorCode.PROTOCOL, message));
    });
  }

  it('refuses a length that does not match the data (the trailer is checked as it arrives)', () => {
    const data = '5\na.local|127.0.0.1|11211\n';
    const short = `CONFIG cluster 0 ${Buffer.byteLength(data) - 2}\r\n${data}\r\nEND\r\n`;
    assert.throws(() => readConfigAnswer(bytes(short), 'config'), code(ErrorCode.PROTOCOL, /wrong length/));
    const long = `CONFIG cluster 0 ${Buffer.byteLength(data) + 3}\r\n${data}\r\nEND\r\n`;
    assert.throws(() => readConfigAnswer(bytes(long), 'config'), code(ErrorCode.PROTOCOL, /wrong length/));
  });

  it('refuses bytes after END, a missing END, and an unknown line', () => {
    const good = reply('config', '5\na.local|127.0.0.1|11211\n');
    assert.throws(() => readConfigAnswer(bytes(`${good}END\r\n`), 'config'), code(ErrorCode.PROTOCOL, /after END/));
    assert.throws(() => readConfigAnswer(bytes(good.replace('END', 'EN!')), 'config'), code(ErrorCode.PROTOCOL));
    assert.throws(() => readConfigAnswer(bytes('STORED\r\n'), 'config'), code(ErrorCode.PROTOCOL, /unexpected reply line "STORED"/));
    assert.throws(() => readConfigAnswer(bytes('ERROR\r\nmore'), 'config'), code(ErrorCode.PROTOCOL, /after "ERROR"/));
  });

  it('refuses a header line that never ends, and a configuration past 1 MiB, before waiting for it', () => {
    assert.throws(() => readConfigAnswer(bytes('x'.repeat(300)), 'config'), code(ErrorCode.PROTOCOL, /no line end/));
    assert.throws(() => readConfigAnswer(bytes('CONFIG cluster 0 2000000\r\n'), 'config'), code(ErrorCode.PROTOCOL, /past 1048576/));
  });

  it('refuses data that is not UTF-8', () => {
    const raw = new Uint8Array([...bytes('CONFIG cluster 0 3\r\n'), 0x31, 0x0a, 0xff, ...bytes('\r\nEND\r\n')]);
    assert.throws(() => readConfigAnswer(raw, 'config'), code(ErrorCode.PROTOCOL, /not UTF-8/));
  });

  it('reports SERVER_ERROR and CLIENT_ERROR as MC_ERR_SERVER, with their text', () => {
    assert.throws(() => readConfigAnswer(bytes('SERVER_ERROR out of memory\r\n'), 'config'), code(ErrorCode.SERVER, /SERVER_ERROR out of memory/));
    assert.throws(() => readConfigAnswer(bytes('CLIENT_ERROR bad command line format\r\n'), 'get'), code(ErrorCode.SERVER, /CLIENT_ERROR/));
  });

  it('names the endpoint in the error', () => {
    assert.throws(() => readConfigAnswer(bytes('STORED\r\n'), 'config', '127.0.0.1:1'), (error: MemcacheError) => error.server === '127.0.0.1:1');
  });
});
