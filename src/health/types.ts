import type { HealthCheckConfig } from '../config/schema.ts';

/** The answer of a check: `degraded` (answering but impaired) is kept distinct from down. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export const HEALTH_STATUSES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

/** A configured check's kind, or `component` for a part reported inside a health body. */
export type CheckType = HealthCheckConfig['type'] | 'component';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface CheckResult {
  name: string;
  type: CheckType;
  /** URL or host the check talked to, with credentials removed. */
  target: string;
  status: HealthStatus;
  /**
   * Time the check took. Always set for configured checks; for a component reported inside a
   * health body, only when the body gives its latency.
   */
  latencyMs?: number;
  /** Why the status is not healthy, precise enough to act on ("HTTP 503, expected 200"). */
  reason?: string;
  /** What a reader should know whatever the status ("hit rate: not enough data yet"). */
  note?: string;
  details?: Record<string, JsonValue>;
  /** Components of the target (the `checks` of a health body). */
  children?: CheckResult[];
}

export interface HealthReport {
  service?: string;
  environment?: string;
  /** The worst status of the results. */
  status: HealthStatus;
  /** UTC. */
  startedAt: Date;
  durationMs: number;
  results: CheckResult[];
}

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** Orders statuses from best (0) to worst (2). */
export function statusRank(status: HealthStatus): number {
  return RANK[status];
}

/** The worst of the statuses; `healthy` for none. */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'healthy';
  for (const s of statuses) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}
