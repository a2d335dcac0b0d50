/**
 * An ElastiCache configuration endpoint's answer, read strictly. Two forms:
 * - `config get cluster` (engines 1.4.14 and later):
 *   `CONFIG cluster <flags> <bytes>\r\n<data>\r\nEND\r\n`
 * - `get AmazonElastiCache:cluster` (earlier engines), a classic get reply:
 *   `VALUE AmazonElastiCache:cluster <flags> <bytes>\r\n<data>\r\nEND\r\n`
 * where `<data>` is `<version>\n<node> <node>...\n` and each node is
 * `hostname|ip|port` (the ip may be empty). Anything else is a typed error:
 * a reply that cannot be trusted must never reshape the ring.
 */

import { ErrorCode, MemcacheError } from '../errors.js';
import { toServer } from '../hash/server.js';

/** One cache node as the endpoint lists it. */
export interface ClusterNode {
  /** The node's DNS name: what the ring places keys by (it survives a node's replacement; its IP may not). */
  readonly hostname: string;
  /** The node's address, or "" when the endpoint gave none (the hostname is then connected to). */
  readonly ip: string;
  readonly port: number;
  /** What is connected to: `ip:port`, or `hostname:port` when the ip is empty (IPv6 in brackets). */
  readonly address: string;
}

/** A cluster configuration: its version (it grows with every change) and its nodes, in the endpoint's order. */
export interface ClusterConfig {
  readonly version: number;
  readonly nodes: readonly ClusterNode[];
}

/** Which question the reply answers. */
export type ConfigCommand = 'config' | 'get';

/** The questions, as sent. */
export const CONFIG_GET_CLUSTER = 'config get cluster\r\n';
export const GET_LEGACY_CLUSTER = 'get AmazonElastiCache:cluster\r\n';

/** How the endpoint answered one question, once the whole reply is in. */
export type ConfigAnswer =
  | { readonly kind: 'cluster'; readonly config: ClusterConfig }
  /** `ERROR`: the engine does not know the command (before 1.4.14 for `config get cluster`). */
  | { readonly kind: 'unknown-command' }
  /** `END` alone: no configuration item (not an ElastiCache endpoint). */
  | { readonly kind: 'miss' };

const HEADERS: Record<ConfigCommand, RegExp> = {
  config: /^CONFIG cluster ([0-9]{1,10}) ([0-9]{1,8})$/,
  get: /^VALUE AmazonElastiCache:cluster ([0-9]{1,10}) ([0-9]{1,8})$/,
};
// A configuration lists nodes in tens of bytes each: a bigger one is corrupt, not large.
const MAX_DATA = 1024 * 1024;
// No header line is longer: a longer run without CRLF is garbage.
const MAX_LINE = 256;
const TRAILER = '\r\nEND\r\n';
const ERROR_LINE = /^(?:SERVER_ERROR|CLIENT_ERROR)(?: |$)/;
const VERSION = /^[0-9]{1,15}$/;
const PORT = /^[0-9]{1,5}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const IPV6 = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function corrupt(message: string, server: string | undefined): never {
  throw new MemcacheError(ErrorCode.PROTOCOL, `configuration endpoint: ${message}`, { server });
}

/**
 * Reads one reply from the start of `bytes`: null while it is incomplete;
 * throws MC_ERR_PROTOCOL for bytes that are not a valid reply (bytes after
 * the reply included: one question is asked at a time) and MC_ERR_SERVER for
 * SERVER_ERROR or CLIENT_ERROR.
 */
export function readConfigAnswer(bytes: Uint8Array, command: ConfigCommand, server?: string): ConfigAnswer | null {
  let lineEnd = -1;
  const scan = Math.min(bytes.length - 1, MAX_LINE);
  for (let i = 0; i < scan; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) {
      lineEnd = i;
      break;
    }
  }
  if (lineEnd < 0) {
    if (bytes.length > MAX_LINE) corrupt(`no line end in the first ${MAX_LINE} bytes`, server);
    return null;
  }
  const line = ascii(bytes, 0, lineEnd);
  const after = lineEnd + 2;
  if (line === 'ERROR' || line === 'END') {
    if (bytes.length > after) corrupt(`bytes after "${line}"`, server);
    return line === 'ERROR' ? UNKNOWN_COMMAND : MISS;
  }
  if (ERROR_LINE.test(line)) {
    throw new MemcacheError(ErrorCode.SERVER, `configuration endpoint answered ${JSON.stringify(line.slice(0, 120))}`, { server });
  }
  const header = HEADERS[command].exec(line);
  if (header === null) corrupt(`unexpected reply line ${JSON.stringify(line.slice(0, 60))}`, server);
  const length = Number(header[2]);
  if (length > MAX_DATA) corrupt(`a ${length}-byte configuration is past ${MAX_DATA} bytes`, server);
  const end = after + length + TRAILER.length;
  if (bytes.length < end) {
    // What has come of the trailer must already be right.
    checkTrailer(bytes, after + length, Math.min(bytes.length, end), server);
    return null;
  }
  checkTrailer(bytes, after + length, end, server);
  if (bytes.length > end) corrupt('bytes after END', server);
  let data: string;
  try {
    data = utf8.decode(bytes.subarray(after, after + length));
  } catch {
    return corrupt('configuration is not UTF-8 text', server);
  }
  return { kind: 'cluster', config: parseClusterConfig(data, server) };
}

/**
 * Parses the data block, `<version>\n<hostname>|<ip>|<port> ...\n` (the
 * final newline optional): a decimal version, at least one node, nodes
 * separated by one space, each with a valid hostname, an empty or IP
 * address, a port from 1 to 65535, no node listed twice. Throws MC_ERR_PROTOCOL.
 */
export function parseClusterConfig(data: string, server?: string): ClusterConfig {
  const body = data.endsWith('\n') ? data.slice(0, -1) : data;
  const newline = body.indexOf('\n');
  if (newline < 0) corrupt('configuration has no node line after its version', server);
  const versionText = body.slice(0, newline);
  const list = body.slice(newline + 1);
  if (!VERSION.test(versionText)) corrupt(`bad configuration version ${JSON.stringify(versionText.slice(0, 20))}`, server);
  if (list === '') corrupt('configuration lists no nodes', server);
  if (list.includes('\n')) corrupt('configuration has more than two lines', server);
  const nodes: ClusterNode[] = [];
  const labels = new Set<string>();
  const addresses = new Set<string>();
  for (const entry of list.split(' ')) {
    const node = parseNode(entry, server);
    const label = `${node.hostname.toLowerCase()} ${node.port}`;
    if (labels.has(label) || addresses.has(node.address)) corrupt(`node ${JSON.stringify(entry)} listed twice`, server);
    labels.add(label);
    addresses.add(node.address);
    nodes.push(node);
  }
  return { version: Number(versionText), nodes };
}

function parseNode(entry: string, server: string | undefined): ClusterNode {
  const shown = JSON.stringify(entry.slice(0, 80));
  const fields = entry.split('|');
  if (fields.length !== 3) corrupt(`node ${shown} is not hostname|ip|port`, server);
  const [hostname, ip, portText] = fields as [string, string, string];
  if (!PORT.test(portText)) corrupt(`bad port in node ${shown}`, server);
  const port = Number(portText);
  if (hostname === '') corrupt(`node ${shown} has no hostname`, server);
  if (ip !== '' && !IPV4.test(ip) && !IPV6.test(ip)) corrupt(`bad ip in node ${shown}`, server);
  let address: string;
  try {
    // The ring's own host and port rules (characters, 1-65535), for the label and for what is connected to.
    toServer({ host: hostname, port });
    address = toServer({ host: ip === '' ? hostname : ip, port }).address;
  } catch (error) {
    return corrupt(`bad node ${shown} (${(error as Error).message})`, server);
  }
  return { hostname, ip, port, address };
}

function checkTrailer(bytes: Uint8Array, from: number, to: number, server: string | undefined): void {
  for (let i = from; i < to; i++) {
    if (bytes[i] !== TRAILER.charCodeAt(i - from)) corrupt('configuration not followed by "\\r\\nEND\\r\\n" (wrong length?)', server);
  }
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

const UNKNOWN_COMMAND: ConfigAnswer = Object.freeze({ kind: 'unknown-command' });
const MISS: ConfigAnswer = Object.freeze({ kind: 'miss' });
