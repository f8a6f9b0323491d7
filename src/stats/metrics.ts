/**
 * The statistics on /metrics, computed from Postgres when scraped (prom-client collect() callbacks),
 * so every replica serves the same figures (aggregate them with max(), not sum()). One read of all
 * the facts serves every metric of a scrape and is cached for `ttlMs`; it has a deadline, and when
 * it fails or runs late the previous figures are served and runbook_stats_collect_failures_total counts it.
 *
 * Histograms and counters are over all time (they only grow as incidents and operations are added,
 * so rate() and increase() work: `increase(…_sum[30d]) / increase(…_count[30d])` is the mean over
 * 30 days); the change failure ratio is over the last `windowMs`; the error budget over the month.
 */
import type { Registry } from 'prom-client';
import type { RunbookConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { prom } from '../metrics.ts';
import type { OperationFacts, StatsRepository } from '../store/repositories/stats.ts';
import {
  type ChangeOutcome,
  changeOutcomes,
  type IncidentTimes,
  incidentTimes,
  monthOf,
  type ServiceBudget,
  serviceBudget,
  servicesOf,
} from './figures.ts';
import { configuredServices } from './stats.ts';

const TIME_BUCKETS = [60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400, 259_200, 604_800];

interface Snapshot {
  times: IncidentTimes[];
  operations: OperationFacts[];
  /** Every change ever (time to restore) and those of the last window (failure ratio). */
  outcomes: ChangeOutcome[];
  recent: ChangeOutcome[];
  budgets: ServiceBudget[];
}

export interface StatsMetricsOptions {
  registry: Registry;
  stats: StatsRepository;
  config: RunbookConfig;
  clock: { now(): Date };
  logger: Logger;
  ttlMs?: number;
  deadlineMs?: number;
  /** The change failure ratio's window (default 30 days). */
  windowMs?: number;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`statistics not read within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function registerStatsMetrics(options: StatsMetricsOptions): void {
  const { registry, stats, config, clock, logger } = options;
  const ttlMs = options.ttlMs ?? 30_000;
  const deadlineMs = options.deadlineMs ?? 2_000;
  const windowMs = options.windowMs ?? 30 * 86_400_000;
  const cadenceOf = (severity: string) => config.severities.find((s) => s.name === severity)?.updateCadence;
  const failures = new prom.Counter({
    name: 'runbook_stats_collect_failures_total',
    help: 'Scrapes whose statistics could not be read from the database in time (the previous figures were served).',
    registers: [registry],
  });

  async function load(): Promise<Snapshot> {
    const now = clock.now();
    const all = { since: null, until: now };
    const [incidents, updates, operations, downtime] = await Promise.all([
      stats.incidents(all),
      stats.updates(all),
      stats.operations(all),
      stats.overlapping(monthOf(now), now),
    ]);
    const outcomes = changeOutcomes(operations, incidents, config.stats.changeFailureWindow);
    const severities = new Set(config.stats.downtimeSeverities);
    return {
      times: incidentTimes(incidents, updates, cadenceOf, now),
      operations,
      outcomes,
      recent: outcomes.filter((o) => o.operation.at.getTime() >= now.getTime() - windowMs),
      budgets: configuredServices(config).map((s) => serviceBudget(downtime, s, severities, now)),
    };
  }

  let cached: { at: number; snapshot: Snapshot } | undefined;
  let loading: Promise<Snapshot | undefined> | undefined;
  function snapshot(): Promise<Snapshot | undefined> {
    if (cached && performance.now() - cached.at < ttlMs) return Promise.resolve(cached.snapshot);
    loading ??= withDeadline(load(), deadlineMs)
      .then(
        (fresh) => {
          cached = { at: performance.now(), snapshot: fresh };
          return fresh;
        },
        (error: unknown) => {
          failures.inc();
          logger.warn({ err: error }, 'statistics for /metrics could not be read; serving the previous ones');
          return cached?.snapshot;
        },
      )
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  const incidentHistogram = (
    name: string,
    help: string,
    value: (t: IncidentTimes) => number | null,
  ): void => {
    const histogram: InstanceType<typeof prom.Histogram<'severity' | 'service'>> = new prom.Histogram({
      name,
      help,
      labelNames: ['severity', 'service'],
      buckets: TIME_BUCKETS,
      registers: [registry],
      async collect() {
        const snap = await snapshot();
        histogram.reset();
        for (const t of snap?.times ?? []) {
          const v = value(t);
          if (v === null) continue;
          for (const service of servicesOf(t.incident))
            histogram.observe({ severity: t.incident.severity, service }, v / 1000);
        }
      },
    });
  };
  incidentHistogram(
    'runbook_incident_time_to_acknowledge_seconds',
    'Time from an incident start to its acknowledgement, per severity and affected service (all time).',
    (t) => t.acknowledgeMs,
  );
  incidentHistogram(
    'runbook_incident_time_to_mitigate_seconds',
    'Time from an incident start to its mitigation (recorded, a succeeded /deploy operation, or status identified/monitoring).',
    (t) => t.mitigateMs,
  );
  incidentHistogram(
    'runbook_incident_time_to_resolve_seconds',
    'Time from an incident start to its resolution, per severity and affected service (all time).',
    (t) => t.resolveMs,
  );

  const incidentCounter = (
    name: string,
    help: string,
    add: (t: IncidentTimes, inc: (labels: Record<string, string>, n: number) => void) => void,
    extraLabels: string[] = [],
  ): void => {
    const counter: InstanceType<typeof prom.Counter<string>> = new prom.Counter({
      name,
      help,
      labelNames: ['severity', 'service', ...extraLabels],
      registers: [registry],
      async collect() {
        const snap = await snapshot();
        counter.reset();
        for (const t of snap?.times ?? []) {
          for (const service of servicesOf(t.incident)) {
            add(t, (labels, n) => {
              if (n > 0) counter.inc({ severity: t.incident.severity, service, ...labels }, n);
            });
          }
        }
      },
    });
  };
  incidentCounter(
    'runbook_incidents_total',
    'Incidents declared, per severity and affected service.',
    (_, inc) => inc({}, 1),
  );
  incidentCounter(
    'runbook_incident_escalations_total',
    'Escalations of incidents (escalated timeline events, or the ladder level reached), per severity and service.',
    (t, inc) => inc({}, t.escalations),
  );
  incidentCounter(
    'runbook_incident_updates_total',
    'Status updates that were due, posted by their due time (on_time) or not (late; an overdue one counts as late).',
    (t, inc) => {
      inc({ punctuality: 'on_time' }, t.updatesOnTime);
      inc({ punctuality: 'late' }, t.updatesDue - t.updatesOnTime);
    },
    ['punctuality'],
  );

  const changes = new prom.Counter({
    name: 'runbook_deploy_changes_total',
    help: '/deploy operations that ran, by service, environment, kind and outcome (succeeded, failed, interrupted).',
    labelNames: ['service', 'environment', 'kind', 'outcome'],
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      changes.reset();
      for (const o of snap?.operations ?? [])
        changes.inc({ service: o.service, environment: o.environment, kind: o.kind, outcome: o.state });
    },
  });
  const ratio = new prom.Gauge({
    name: 'runbook_deploy_change_failure_ratio',
    help: 'Share of the changes of the last 30 days that failed, or were followed within stats.changeFailureWindow by a rollback or an incident.',
    labelNames: ['service', 'environment'],
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      ratio.reset();
      const byTarget = new Map<
        string,
        { service: string; environment: string; all: number; failed: number }
      >();
      for (const { operation: op, failed } of snap?.recent ?? []) {
        const key = `${op.service}\n${op.environment}`;
        const entry = byTarget.get(key) ?? {
          service: op.service,
          environment: op.environment,
          all: 0,
          failed: 0,
        };
        entry.all++;
        if (failed) entry.failed++;
        byTarget.set(key, entry);
      }
      for (const e of byTarget.values())
        ratio.set({ service: e.service, environment: e.environment }, e.failed / e.all);
    },
  });
  const restore = new prom.Histogram({
    name: 'runbook_deploy_time_to_restore_seconds',
    help: 'Time from a failed change to the next succeeded rollback of its service or the resolution of the incident it caused.',
    labelNames: ['service', 'environment'],
    buckets: TIME_BUCKETS,
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      restore.reset();
      for (const { operation: op, restoreMs } of snap?.outcomes ?? [])
        if (restoreMs !== null)
          restore.observe({ service: op.service, environment: op.environment }, restoreMs / 1000);
    },
  });
  const budgetGauge = (name: string, help: string, value: (b: ServiceBudget) => number): void => {
    const gauge: InstanceType<typeof prom.Gauge<'service'>> = new prom.Gauge({
      name,
      help,
      labelNames: ['service'],
      registers: [registry],
      async collect() {
        const snap = await snapshot();
        gauge.reset();
        for (const b of snap?.budgets ?? []) gauge.set({ service: b.service }, value(b));
      },
    });
  };
  budgetGauge(
    'runbook_error_budget_minutes',
    "A service's monthly error budget: (100 − SLO) % of an average month (30.44 days; 99.9 % = 43.8 minutes).",
    (b) => b.budgetMinutes,
  );
  budgetGauge(
    'runbook_error_budget_spent_minutes',
    'Minutes of this calendar month (UTC) during which an incident of a downtime severity affected the service (overlaps once).',
    (b) => b.spentMinutes,
  );
  budgetGauge(
    'runbook_error_budget_remaining_minutes',
    "The month's error budget minus what incidents spent (negative: overspent).",
    (b) => b.remainingMinutes,
  );
}
