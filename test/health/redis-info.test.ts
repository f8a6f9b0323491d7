import { describe, expect, it } from 'vitest';
import { evaluateRedisInfo, parseRedisInfo } from '../../src/health/redis-info.ts';

const thresholds = { hitRateTarget: 0.8, maxMemoryRatio: 0.9 };

function info(fields: Record<string, number>): Map<string, string> {
  const text = ['# Memory', ...Object.entries(fields).map(([k, v]) => `${k}:${v}`)].join('\r\n');
  return parseRedisInfo(text);
}

describe('redis INFO evaluation', () => {
  it('parses INFO text with CRLF and section headers', () => {
    const parsed = parseRedisInfo(
      '# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n\r\n# Stats\r\nkeyspace_hits:3\r\n',
    );
    expect(parsed.get('used_memory')).toBe('1024');
    expect(parsed.get('used_memory_human')).toBe('1.00K');
    expect(parsed.get('keyspace_hits')).toBe('3');
  });

  const earlier = { hits: 1_000, misses: 1_000, atMs: Date.parse('2026-01-05T08:00:00Z') };
  const tenSecondsLater = { atMs: earlier.atMs + 10_000 };

  it('is healthy within limits', () => {
    const verdict = evaluateRedisInfo(
      info({ used_memory: 100, maxmemory: 1000, keyspace_hits: 1_090, keyspace_misses: 1_010 }),
      thresholds,
      { previous: earlier, ...tenSecondsLater },
    );
    expect(verdict).toMatchObject({
      status: 'healthy',
      reasons: [],
      notes: [],
      details: { hitRate: 0.9, memoryRatio: 0.1, hitRateWindowMs: 10_000, windowHits: 90, windowMisses: 10 },
      sample: { hits: 1_090, misses: 1_010, atMs: tenSecondsLater.atMs },
    });
  });

  it('memory above maxMemoryRatio of maxmemory is degraded', () => {
    const verdict = evaluateRedisInfo(
      info({ used_memory: 996_147_200, maxmemory: 1_073_741_824, keyspace_hits: 0, keyspace_misses: 0 }),
      thresholds,
    );
    expect(verdict.status).toBe('degraded');
    expect(verdict.reasons).toEqual(['memory 950.0 MB of 1.0 GB (92.8%) above 90%']);
  });

  it('maxmemory 0 is unlimited: no memory verdict', () => {
    const verdict = evaluateRedisInfo(info({ used_memory: 10_000_000, maxmemory: 0 }), thresholds);
    expect(verdict.status).toBe('healthy');
    expect(verdict.details.memoryNote).toBe('maxmemory is 0 (unlimited): no memory verdict');
  });

  it('the first sample says "not enough data yet" and is not degraded, however poor the counters since start', () => {
    // A shared Redis: other clients' misses since the server started say nothing about this service.
    const verdict = evaluateRedisInfo(info({ keyspace_hits: 1, keyspace_misses: 99_999 }), thresholds, {
      atMs: earlier.atMs,
    });
    expect(verdict).toMatchObject({
      status: 'healthy',
      reasons: [],
      notes: ['hit rate: not enough data yet (it is measured between two checks)'],
      details: { hitRate: null },
      sample: { hits: 1, misses: 99_999, atMs: earlier.atMs },
    });
  });

  it('Floyo: a hit rate under 80 % between two samples is degraded, whatever the totals since start', () => {
    // 452 hits and 548 misses in the 10 s; the totals (1 452 / 1 548) would say 48 %.
    const verdict = evaluateRedisInfo(info({ keyspace_hits: 1_452, keyspace_misses: 1_548 }), thresholds, {
      previous: earlier,
      ...tenSecondsLater,
    });
    expect(verdict.reasons).toEqual([
      'cache hit rate 45.2% over the last 10s below target 80% (452 hits, 548 misses)',
    ]);
    const good = evaluateRedisInfo(info({ keyspace_hits: 1_900, keyspace_misses: 1_100 }), thresholds, {
      previous: earlier,
      ...tenSecondsLater,
    });
    expect(good).toMatchObject({ status: 'healthy', details: { hitRate: 0.9 } }); // totals: 63 %
  });

  it('no lookups between the samples, or counters that went back: no hit-rate verdict', () => {
    const idle = evaluateRedisInfo(info({ keyspace_hits: 1_000, keyspace_misses: 1_000 }), thresholds, {
      previous: earlier,
      ...tenSecondsLater,
    });
    expect(idle).toMatchObject({ status: 'healthy', notes: ['hit rate: no lookups in the last 10s'] });
    const reset = evaluateRedisInfo(info({ keyspace_hits: 3, keyspace_misses: 40 }), thresholds, {
      previous: earlier,
      ...tenSecondsLater,
    });
    expect(reset).toMatchObject({
      status: 'healthy',
      notes: ['hit rate: not enough data yet (the Redis counters were reset since the last check)'],
    });
  });

  it('hitRateTarget off: no hit rate at all, nothing to keep', () => {
    const verdict = evaluateRedisInfo(
      info({ keyspace_hits: 0, keyspace_misses: 500 }),
      { ...thresholds, hitRateTarget: 'off' },
      { previous: earlier, ...tenSecondsLater },
    );
    expect(verdict).toMatchObject({ status: 'healthy', reasons: [], notes: [], details: { hitRate: 'off' } });
    expect(verdict.sample).toBeUndefined();
  });

  it('both problems are reported together', () => {
    const verdict = evaluateRedisInfo(
      info({ used_memory: 95, maxmemory: 100, keyspace_hits: 1_001, keyspace_misses: 1_009 }),
      thresholds,
      { previous: earlier, ...tenSecondsLater },
    );
    expect(verdict.reasons).toHaveLength(2);
  });
});
