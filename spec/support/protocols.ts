// The wire protocols every spec of wire-independent behaviour is run over,
// and the servers the conformance suites run them against.
import type { Protocol } from '../../lib/group-options.js';

export const PROTOCOLS = ['meta', 'binary', 'text'] as const satisfies readonly Protocol[];

export interface ServerCase {
  /** Shown in the spec's title. */
  name: string;
  protocol: Protocol;
  /** memcached arguments for this case's servers. */
  args: string[];
}

export const SERVER_CASES: readonly ServerCase[] = [
  { name: 'meta', protocol: 'meta', args: [] },
  // Binary disabled on the server: a meta client that fell back to binary anywhere would fail here.
  { name: 'meta, memcached -B ascii', protocol: 'meta', args: ['-B', 'ascii'] },
  { name: 'binary', protocol: 'binary', args: [] },
  { name: 'text', protocol: 'text', args: [] },
];
