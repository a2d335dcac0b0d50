// memring/otel: Group calls as OpenTelemetry spans and the
// db.client.operation.duration histogram, read back through the SDK's
// in-memory exporter and a manual metric reader, against real memcached.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { Group } from '../lib/index.js';
import { instrument } from '../lib/otel.js';
import { command } from '../lib/diagnostics/node-channels.js';
import { MemcachedServer } from './support/memcached.js';
import { PROTOCOLS } from './support/protocols.js';

/** Collects on demand only. */
class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

let counter = 0;
const fresh = (): string => `otel:${process.pid}:${counter++}`;

for (const protocol of PROTOCOLS) {
  describe(`memring/otel over ${protocol}`, () => {
    let servers: MemcachedServer[];
    let group: Group;
    let pair: Group;
    let exporter: InMemorySpanExporter;
    let reader: ManualReader;
    let tracerProvider: BasicTracerProvider;
    let meterProvider: MeterProvider;
    let stop: () => void;

    before(async () => {
      servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
      group = new Group([servers[0]!.address], { protocol });
      pair = new Group(servers.map((s) => s.address), { protocol });
    });
    after(async () => {
      await Promise.all([group.close(), pair.close()]);
      await Promise.all(servers.map((s) => s.stop()));
    });
    beforeEach(() => {
      exporter = new InMemorySpanExporter();
      tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      reader = new ManualReader();
      meterProvider = new MeterProvider({ readers: [reader] });
      stop = instrument({ tracer: tracerProvider.getTracer('memring-spec'), meter: meterProvider.getMeter('memring-spec') });
    });
    afterEach(async () => {
      stop();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    });

    const spans = (): ReadableSpan[] => exporter.getFinishedSpans();

    async function durations(): Promise<HistogramMetricData['dataPoints']> {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'db.client.operation.duration') as HistogramMetricData | undefined;
      assert.ok(metric !== undefined, 'no db.client.operation.duration');
      assert.equal(metric.descriptor.unit, 's');
      return metric.dataPoints;
    }

    it('a span per call, named by the operation, with the database conventions’ attributes', async () => {
      const key = fresh();
      await group.set(key, 'value');
      await group.get(key);
      await group.get(fresh());
      const [set, hit, miss] = spans();
      assert.deepEqual(
        spans().map((s) => s.name),
        ['set', 'get', 'get'],
      );
      for (const span of [set!, hit!, miss!]) {
        assert.equal(span.kind, SpanKind.CLIENT);
        assert.equal(span.status.code, SpanStatusCode.UNSET);
        assert.equal(span.attributes['db.system.name'], 'memcached');
        assert.equal(span.attributes['db.operation.name'], span.name);
        assert.equal(span.attributes['server.address'], '127.0.0.1');
        assert.equal(span.attributes['server.port'], servers[0]!.port);
        assert.equal(span.attributes['error.type'], undefined);
      }
      assert.equal(set!.attributes['db.memcached.hit'], undefined);
      assert.equal(hit!.attributes['db.memcached.hit'], true);
      assert.equal(miss!.attributes['db.memcached.hit'], false);
    });

    it('getMulti: the key, hit and miss counts (and the batch size)', async () => {
      const keys = Array.from({ length: 10 }, fresh);
      for (const key of keys.slice(0, 4)) await pair.set(key, key);
      exporter.reset();
      await pair.getMulti(keys);
      const [span] = spans();
      assert.equal(span!.name, 'getMulti');
      assert.equal(span!.attributes['db.operation.name'], 'getMulti');
      assert.equal(span!.attributes['db.memcached.keys'], 10);
      assert.equal(span!.attributes['db.operation.batch.size'], 10);
      assert.equal(span!.attributes['db.memcached.hits'], 4);
      assert.equal(span!.attributes['db.memcached.misses'], 6);
    });

    it('the db.client.operation.duration histogram: one data point per operation and outcome, in seconds', async () => {
      const key = fresh();
      await group.set(key, 'v');
      await group.get(key);
      await group.get(key);
      const points = await durations();
      const byOperation = new Map(points.map((p) => [p.attributes['db.operation.name'], p]));
      assert.equal(byOperation.get('get')!.value.count, 2);
      assert.equal(byOperation.get('set')!.value.count, 1);
      const get = byOperation.get('get')!;
      assert.deepEqual(get.attributes, {
        'db.system.name': 'memcached',
        'db.operation.name': 'get',
        'server.address': '127.0.0.1',
        'server.port': servers[0]!.port,
      });
      // Seconds: a local round trip is well under one.
      assert.ok(get.value.sum! > 0 && get.value.sum! < 2, String(get.value.sum));
      assert.deepEqual(get.value.buckets.boundaries, [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
    });

    it('a failed call: status ERROR and error.type, on the span and the histogram', async () => {
      const stalled = await MemcachedServer.start();
      const slow = new Group([stalled.address], { protocol, timeout: 150 });
      try {
        await slow.set('k', 'v');
        await stalled.pause();
        await assert.rejects(slow.get('k'), { code: 'MC_ERR_TIMEOUT' });
        await assert.rejects(group.get('bad key with spaces'), { code: 'MC_ERR_BAD_KEY' });
        const [, timedOut, badKey] = spans();
        assert.equal(timedOut!.name, 'get');
        assert.equal(timedOut!.status.code, SpanStatusCode.ERROR);
        assert.match(timedOut!.status.message!, /no reply within 150 ms/);
        assert.equal(timedOut!.attributes['error.type'], 'MC_ERR_TIMEOUT');
        assert.equal(timedOut!.attributes['server.port'], stalled.port);
        assert.equal(badKey!.attributes['error.type'], 'MC_ERR_BAD_KEY');
        const failed = (await durations()).filter((p) => p.attributes['error.type'] !== undefined);
        assert.deepEqual(
          failed.map((p) => [p.attributes['error.type'], p.attributes['server.port'], p.value.count]).sort(),
          [
            ['MC_ERR_BAD_KEY', servers[0]!.port, 1],
            ['MC_ERR_TIMEOUT', stalled.port, 1],
          ],
        );
      } finally {
        await stalled.stop();
        await slow.close();
      }
    });

    it('the function instrument returns unsubscribes: no more spans, and the channels have no subscriber left', async () => {
      stop();
      await group.get(fresh());
      assert.equal(spans().length, 0);
      assert.equal(command.start.hasSubscribers, false);
      assert.equal(command.asyncEnd.hasSubscribers, false);
    });
  });
}

describe('instrument without a tracer or a meter', () => {
  it('takes either alone', async () => {
    const server = await MemcachedServer.start();
    const group = new Group([server.address]);
    const reader = new ManualReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const stop = instrument({ meter: meterProvider.getMeter('memring-spec') });
    try {
      await group.set('k', 'v');
      const { resourceMetrics } = await reader.collect();
      assert.equal(resourceMetrics.scopeMetrics[0]!.metrics[0]!.descriptor.name, 'db.client.operation.duration');
    } finally {
      stop();
      await meterProvider.shutdown();
      await group.close();
      await server.stop();
    }
  });
});
