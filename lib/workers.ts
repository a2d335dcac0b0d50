/**
 * The package's entry under the `workerd` and `worker` conditions (package.json
 * "exports"): everything index.ts exports, with a Group that fits in one
 * Workers request.
 */
import { ErrorCode, MemcacheError } from './errors.js';
import { Group as BaseGroup, type GroupOptions } from './group.js';
import { toServer, type ServerInput } from './hash/server.js';
import { checkWorkersTls } from './net/workers-tls.js';
import type { TranscoderChoice } from './transcode/registry.js';

export * from './index.js';

/** Outgoing connections (sockets and fetches together) a Workers request may hold open at once. */
const REQUEST_CONNECTION_LIMIT = 6;

/**
 * A Group whose sockets all fit in one request: servers × `connections` may
 * not exceed 6 (MC_ERR_BAD_CONFIG). A connection past the limit would wait for
 * one of the request's others to close, and a Group's stay open until
 * `close()`: its operations would only time out. TLS settings Workers
 * cannot honour (ca, cert, key, another servername, rejectUnauthorized:
 * false) are refused here too, rather than failing every connection.
 */
export class Group<T extends TranscoderChoice = 'raw'> extends BaseGroup<T> {
  constructor(servers: readonly ServerInput[] | ServerInput, options: GroupOptions<T> = {}) {
    // The Node build's checks come first, with their own errors.
    super(servers, options);
    const count = this.serverNames.length;
    const perServer = options.connections ?? 1;
    if (count * perServer > REQUEST_CONNECTION_LIMIT) {
      throw new MemcacheError(
        ErrorCode.BAD_CONFIG,
        `${count} servers × ${perServer} connections = ${count * perServer} sockets; ` +
          `a Workers request may hold at most ${REQUEST_CONNECTION_LIMIT} connections open`,
      );
    }
    const tls = options.tls;
    if (tls !== undefined && tls !== true) {
      for (const server of Array.isArray(servers) ? servers : [servers as ServerInput]) checkWorkersTls(tls, toServer(server).host);
    }
  }
}
