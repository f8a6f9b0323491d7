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
  /** Floyo: cache hit rate > 80 %; below is degraded. */
  hitRateTarget: number;
  /** used_memory above this fraction of maxmemory is degraded. */
  maxMemoryRatio: number;
}

export interface RedisVerdict {
  status: HealthStatus;
  reasons: string[];
  details: Record<string, JsonValue>;
}

function numberField(info: Map<string, string>, name: string): number | undefined {
  const raw = info.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Judges `INFO memory` + `INFO stats`: memory against maxmemory (0 = unlimited: no verdict) and
 * keyspace_hits / (hits + misses) against the target (no lookups yet: no verdict). Both counters
 * are cumulative since the server started or since CONFIG RESETSTAT.
 */
export function evaluateRedisInfo(info: Map<string, string>, thresholds: RedisThresholds): RedisVerdict {
  const reasons: string[] = [];
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
  if (hits !== undefined && misses !== undefined) {
    details.keyspaceHits = hits;
    details.keyspaceMisses = misses;
    const lookups = hits + misses;
    if (lookups === 0) {
      details.hitRate = null;
      details.hitRateNote = 'no cache lookups yet: no hit-rate verdict';
    } else {
      const rate = hits / lookups;
      details.hitRate = Math.round(rate * 10_000) / 10_000;
      if (rate < thresholds.hitRateTarget) {
        reasons.push(
          `cache hit rate ${formatPercent(rate)} below target ${formatPercent(thresholds.hitRateTarget)} ` +
            `(${hits} hits, ${misses} misses)`,
        );
      }
    }
  }
  return { status: reasons.length > 0 ? 'degraded' : 'healthy', reasons, details };
}
