/**
 * What a gradual roll-out will do, fixed when it is asked for (stored in the operation's params):
 * from → to revision, the steps, how long each holds, and the analysis metrics. A restart resumes
 * with this plan even if the config changed meanwhile.
 */
import { formatDuration } from '../config/duration.ts';
import type { RolloutMetricConfig, ServiceConfig } from '../config/schema.ts';
import { PlatformError } from '../platform/errors.ts';
import type { Platform, PlatformStatus } from '../platform/platform.ts';
import type { JsonObject } from '../store/repositories/rows.ts';

/** A metric as the roll-out keeps it (the config's, defaults applied). */
export interface PlannedMetric {
  name: string;
  provider: 'health' | 'prometheus';
  query?: string;
  intervalMs: number;
  count: number;
  failureCondition?: string;
  successCondition?: string;
  failureLimit: number;
}

export interface RolloutPlan {
  fromRevision: string;
  toRevision: string;
  toImage: string | null;
  steps: number[];
  intervalMs: number;
  intervalText: string;
  /** How long a step holds: its interval, or longer when an analysis needs longer. */
  holdMs: number;
  analysis: PlannedMetric[];
}

/** Where the platform has no traffic split, what to do instead. */
export const ROLLOUT_INSTEAD: Record<string, string> = {
  kubernetes:
    'a Kubernetes Deployment has no traffic split between revisions (that needs a service mesh or Argo Rollouts): ' +
    'deploy the revision with `/deploy rollback <service> to <revision>`, or `/deploy restart`',
};

const toPlanned = (m: RolloutMetricConfig): PlannedMetric => ({
  name: m.name,
  provider: m.provider,
  ...(m.query !== undefined ? { query: m.query } : {}),
  intervalMs: m.interval,
  count: m.count,
  ...(m.failureCondition !== undefined ? { failureCondition: m.failureCondition } : {}),
  ...(m.successCondition !== undefined ? { successCondition: m.successCondition } : {}),
  failureLimit: m.failureLimit,
});

/**
 * The default analysis (the BARQ runbook): the error rate above deploy.rollbackErrorRate for
 * deploy.rollbackAfter, measured five times across it, all five failing to roll back. The error rate
 * is the service's first prometheus health check's query; without one, its health checks.
 */
export function defaultAnalysis(
  service: ServiceConfig,
  deploy: { rollbackErrorRate: number; rollbackAfter: number },
): PlannedMetric[] {
  const count = 5;
  const intervalMs = Math.max(1_000, Math.round(deploy.rollbackAfter / count));
  const prometheus = service.healthChecks.find((c) => c.type === 'prometheus');
  if (prometheus) {
    return [
      {
        name: 'error rate',
        provider: 'prometheus',
        query: prometheus.query,
        intervalMs,
        count,
        failureCondition: `result > ${deploy.rollbackErrorRate}`,
        failureLimit: count - 1,
      },
    ];
  }
  return [
    {
      name: 'health',
      provider: 'health',
      intervalMs,
      count,
      failureCondition: 'result == unhealthy',
      failureLimit: count - 1,
    },
  ];
}

export function analysisFor(
  service: ServiceConfig,
  deploy: { rollbackErrorRate: number; rollbackAfter: number },
): PlannedMetric[] {
  return service.rollout.analysis
    ? service.rollout.analysis.map(toPlanned)
    : defaultAnalysis(service, deploy);
}

export async function planRollout(
  service: ServiceConfig,
  platform: Platform,
  request: { toRevision: string; steps?: number[]; intervalMs?: number },
  _status: PlatformStatus,
  deploy: { rollbackErrorRate: number; rollbackAfter: number } = {
    rollbackErrorRate: 0.05,
    rollbackAfter: 300_000,
  },
): Promise<JsonObject> {
  const steps = platform.trafficSteps;
  if (!steps) {
    throw new PlatformError(
      'unsupported',
      `Gradual roll-outs are not supported on ${service.name}: ${ROLLOUT_INSTEAD[platform.kind] ?? 'this platform has no traffic split'}`,
    );
  }
  const prepared = await steps.prepare(request.toRevision);
  const analysis = analysisFor(service, deploy);
  const intervalMs = request.intervalMs ?? service.rollout.interval;
  const holdMs = Math.max(intervalMs, ...analysis.map((m) => m.intervalMs * m.count));
  const plan: RolloutPlan = {
    fromRevision: prepared.fromRevision,
    toRevision: prepared.toRevision,
    toImage: prepared.toImage ?? null,
    steps: request.steps ?? service.rollout.steps,
    intervalMs,
    intervalText: formatDuration(intervalMs),
    holdMs,
    analysis,
  };
  return { ...plan, analysis: plan.analysis.map((m) => ({ ...m })) };
}
