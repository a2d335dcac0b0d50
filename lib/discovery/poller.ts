/**
 * Asks the configuration endpoint now, then every `interval` ms, and tells
 * the group when the cluster's version grows. A lower or equal version is
 * ignored (the cluster is not rebuilt from an older view); a failed question
 * keeps the last known cluster. Until a first cluster is known, failures are
 * retried sooner, after `retryDelay` doubling up to `maxRetryDelay` (never
 * past `interval`): calls are waiting.
 */

import type { MemcacheError } from '../errors.js';
import type { ClusterConfig } from './cluster-config.js';
import type { ConfigEndpoint } from './config-endpoint.js';
import type { FirstCluster } from './first-cluster.js';

export interface ClusterObserver {
  /** A configuration with a higher version than the last; may throw (the version is then not taken). */
  onCluster(config: ClusterConfig, previous: ClusterConfig | null): void;
  /** A question failed (or its answer could not be used); `kept` is the cluster still in use. */
  onDiscoveryFailure(error: MemcacheError, kept: ClusterConfig | null): void;
}

export interface PollerOptions {
  interval: number;
  retryDelay: number;
  maxRetryDelay: number;
}

export class ClusterPoller {
  private cluster: ClusterConfig | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failuresBeforeFirst = 0;
  private closed = false;
  private readonly pollTask = (): void => this.poll();

  constructor(
    private readonly endpoint: ConfigEndpoint,
    private readonly options: PollerOptions,
    private readonly observer: ClusterObserver,
    /** Opened at the first cluster; told of failures meanwhile. */
    readonly firstCluster: FirstCluster,
  ) {}

  /** The cluster in use, or null before the first answer. */
  get current(): ClusterConfig | null {
    return this.cluster;
  }

  get address(): string {
    return this.endpoint.address;
  }

  start(): void {
    this.poll();
  }

  /** Stops polling and closes the endpoint's connection; waiters reject with MC_ERR_CLIENT_CLOSED. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.endpoint.close();
    this.firstCluster.close();
  }

  private poll(): void {
    this.timer = null;
    if (this.closed) return;
    this.endpoint.ask().then(
      (config) => this.answered(config),
      (error: MemcacheError) => this.failed(error),
    );
  }

  private answered(config: ClusterConfig): void {
    if (this.closed) return;
    const previous = this.cluster;
    if (previous === null || config.version > previous.version) {
      try {
        this.observer.onCluster(config, previous);
      } catch (error) {
        this.failed(error as MemcacheError);
        return;
      }
      this.cluster = config;
      this.firstCluster.open();
    }
    this.schedule(this.options.interval);
  }

  private failed(error: MemcacheError): void {
    if (this.closed) return;
    this.observer.onDiscoveryFailure(error, this.cluster);
    if (this.cluster !== null) return this.schedule(this.options.interval);
    this.firstCluster.lastError = error;
    const { retryDelay, maxRetryDelay, interval } = this.options;
    const delay = Math.min(interval, maxRetryDelay, retryDelay * 2 ** this.failuresBeforeFirst++);
    this.schedule(delay);
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    const timer = setTimeout(this.pollTask, delay);
    // Polling alone must not keep the process alive.
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }
}
