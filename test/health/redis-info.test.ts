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

  it('is healthy within limits', () => {
    const verdict = evaluateRedisInfo(
      info({ used_memory: 100, maxmemory: 1000, keyspace_hits: 90, keyspace_misses: 10 }),
      thresholds,
    );
    expect(verdict).toMatchObject({
      status: 'healthy',
      reasons: [],
      details: { hitRate: 0.9, memoryRatio: 0.1 },
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

  it('Floyo: a hit rate under 80 % is degraded', () => {
    const verdict = evaluateRedisInfo(info({ keyspace_hits: 452, keyspace_misses: 548 }), thresholds);
    expect(verdict.reasons).toEqual(['cache hit rate 45.2% below target 80% (452 hits, 548 misses)']);
  });

  it('no lookups yet: no hit-rate verdict', () => {
    const verdict = evaluateRedisInfo(info({ keyspace_hits: 0, keyspace_misses: 0 }), thresholds);
    expect(verdict).toMatchObject({ status: 'healthy', details: { hitRate: null } });
  });

  it('both problems are reported together', () => {
    const verdict = evaluateRedisInfo(
      info({ used_memory: 95, maxmemory: 100, keyspace_hits: 1, keyspace_misses: 9 }),
      thresholds,
    );
    expect(verdict.reasons).toHaveLength(2);
  });
});
