import { formatDuration } from '../config/duration.ts';
import { formatBytes, formatPercent } from './format.ts';
import type { HealthStatus, JsonValue } from './types.ts';

/** Parses `INFO` text (`field:value` lines, `# Section` headers, CRLF) into a map. */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

export interface RedisThresholds {
  /** Floyo: cache hit rate > 80 %; below is degraded. `off`: no hit-rate verdict (queues, locks). */
  hitRateTarget: number | 'off';
  /** used_memory above this fraction of maxmemory is degraded. */
  maxMemoryRatio: number;
}

/** The keyspace counters at one moment, kept between checks to compute the hit rate between them. */
export interface KeyspaceSample {
  hits: number;
  misses: number;
  /** Epoch ms when INFO was read. */
  atMs: number;
}

export interface RedisVerdict {
  status: HealthStatus;
  reasons: string[];
  /** What a reader should know although it is not a problem ("not enough data yet"). */
  notes: string[];
  details: Record<string, JsonValue>;
  /** This check's counters, to keep for the next check (none when the hit rate is off). */
  sample?: KeyspaceSample;
}

function numberField(info: Map<string, string>, name: string): number | undefined {
  const raw = info.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** The sample a stored value is, if it is one (the store holds unknown values). */
export function asKeyspaceSample(value: unknown): KeyspaceSample | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { hits, misses, atMs } = value as Record<string, unknown>;
  return typeof hits === 'number' && typeof misses === 'number' && typeof atMs === 'number'
    ? { hits, misses, atMs }
    : undefined;
}

/**
 * Judges `INFO memory` + `INFO stats`: memory against maxmemory (0 = unlimited: no verdict), and
 * the cache hit rate against its target. keyspace_hits and keyspace_misses count every client's
 * lookups since the server started, so the rate is taken over the interval since the previous
 * sample (as Prometheus' `rate()` would): the first sample, or one after the counters went back
 * (restart, CONFIG RESETSTAT), says "not enough data yet" and gives no verdict.
 */
export function evaluateRedisInfo(
  info: Map<string, string>,
  thresholds: RedisThresholds,
  options: { previous?: KeyspaceSample | undefined; atMs?: number } = {},
): RedisVerdict {
  const reasons: string[] = [];
  const notes: string[] = [];
  const details: Record<string, JsonValue> = {};
  const used = numberField(info, 'used_memory');
  const max = numberField(info, 'maxmemory');
  if (used !== undefined) details.usedMemory = used;
  if (max !== undefined) details.maxMemory = max;
  if (used !== undefined && max !== undefined && max > 0) {
    const ratio = used / max;
    details.memoryRatio = Math.round(ratio * 10_000) / 10_000;
    if (ratio > thresholds.maxMemoryRatio) {
      reasons.push(
        `memory ${formatBytes(used)} of ${formatBytes(max)} (${formatPercent(ratio)}) above ${formatPercent(thresholds.maxMemoryRatio)}`,
      );
    }
  } else if (max === 0) {
    details.memoryNote = 'maxmemory is 0 (unlimited): no memory verdict';
  }
  const hits = numberField(info, 'keyspace_hits');
  const misses = numberField(info, 'keyspace_misses');
  let sample: KeyspaceSample | undefined;
  if (hits !== undefined && misses !== undefined) {
    details.keyspaceHits = hits;
    details.keyspaceMisses = misses;
    const target = thresholds.hitRateTarget;
    if (target === 'off') {
      details.hitRate = 'off';
    } else {
      sample = { hits, misses, atMs: options.atMs ?? Date.now() };
      const hitRate = hitRateSince(options.previous, sample);
      details.hitRate = hitRate.rate ?? null;
      if (hitRate.note !== undefined) {
        details.hitRateNote = hitRate.note;
        notes.push(hitRate.note);
      }
      if (hitRate.windowMs !== undefined) {
        details.hitRateWindowMs = hitRate.windowMs;
        details.windowHits = hitRate.hits ?? 0;
        details.windowMisses = hitRate.misses ?? 0;
      }
      if (hitRate.rate !== undefined && hitRate.rate < target) {
        reasons.push(
          `cache hit rate ${formatPercent(hitRate.rate)} over the last ${formatDuration(hitRate.windowMs ?? 0)} ` +
            `below target ${formatPercent(target)} (${hitRate.hits ?? 0} hits, ${hitRate.misses ?? 0} misses)`,
        );
      }
    }
  }
  return {
    status: reasons.length > 0 ? 'degraded' : 'healthy',
    reasons,
    notes,
    details,
    ...(sample ? { sample } : {}),
  };
}

interface HitRate {
  rate?: number;
  note?: string;
  windowMs?: number;
  hits?: number;
  misses?: number;
}

function hitRateSince(previous: KeyspaceSample | undefined, current: KeyspaceSample): HitRate {
  if (previous === undefined)
    return { note: 'hit rate: not enough data yet (it is measured between two checks)' };
  const hits = current.hits - previous.hits;
  const misses = current.misses - previous.misses;
  if (hits < 0 || misses < 0)
    return { note: 'hit rate: not enough data yet (the Redis counters were reset since the last check)' };
  const windowMs = Math.max(0, current.atMs - previous.atMs);
  const lookups = hits + misses;
  if (lookups === 0)
    return { note: `hit rate: no lookups in the last ${formatDuration(windowMs)}`, windowMs, hits, misses };
  return { rate: Math.round((hits / lookups) * 10_000) / 10_000, windowMs, hits, misses };
}
