import { ErrorCode, MemcacheError } from '../errors.js';
import type { TlsOptions } from './transport.js';

/**
 * Workers verify the server's certificate against public CAs for the host
 * connected to, and take no other TLS setting: the ones that would be
 * silently ignored are refused (MC_ERR_BAD_CONFIG) rather than connect
 * differently than asked. Used by the workerd entry's Group at construction
 * and by the Workers transport.
 */
export function checkWorkersTls(tls: TlsOptions, host: string): void {
  const refused: string[] = [];
  if (tls.ca !== undefined) refused.push('ca');
  if (tls.cert !== undefined) refused.push('cert');
  if (tls.key !== undefined) refused.push('key');
  if (tls.servername !== undefined && tls.servername !== host) refused.push('servername');
  if (tls.rejectUnauthorized === false) refused.push('rejectUnauthorized: false');
  if (refused.length > 0) {
    throw new MemcacheError(
      ErrorCode.BAD_CONFIG,
      `Workers sockets check certificates against public CAs and take no other TLS setting; cannot honour ${refused.join(', ')}`,
    );
  }
}
