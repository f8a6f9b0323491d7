/**
 * Incident and deploy figures, computed from the facts StatsRepository reads (pure functions: the
 * same rows always give the same numbers, which the tests check exactly).
 *
 * - Time to acknowledge: acknowledged_at − started_at. To mitigate: mitigated_at − started_at, or,
 *   when none was recorded, the earlier of the first succeeded /deploy operation linked to the
 *   incident (its finish) and the first status update to identified or monitoring. To resolve:
 *   resolved_at − started_at. Each is a mean and a median over the incidents that have it.
 * - Update punctuality: a status update is on time when posted by the due time in force before it
 *   (the next update time the previous update announced; for the first, the declaration plus the
 *   severity's update cadence); an open incident whose next update is overdue counts as one late.
 * - Escalations of an incident: the larger of its 'escalated' timeline events and its ladder level.
 * - A change (an operation that ran: succeeded, failed or interrupted) failed when it did not
 *   succeed, or when a rollback of the same service and environment ran within the change failure
 *   window after it, or when an incident affecting the service started within that window (for
 *   changes in production only: incidents have no environment). Its time to restore runs from the
 *   change's end (or the incident's start, when only an incident followed it) to the first of: the
 *   next succeeded rollback of the same service and environment, the incident's resolution.
 */
import { YEAR_MS } from '../config/duration.ts';
import type {
  DowntimeFacts,
  IncidentFacts,
  OperationFacts,
  UpdateFacts,
} from '../store/repositories/stats.ts';

const DAY_MS = 86_400_000;
/**
 * The Fleet runbook's month: 99.9 % = 43.8 minutes. That is an average month, a twelfth of a
 * (Julian) year, 30.4375 days = 43,830 minutes, not 30 days (which would give 43.2).
 */
export const AVERAGE_MONTH_MS = YEAR_MS / 12;
/** The environment incidents are about (they name services, not environments). */
export const INCIDENT_ENVIRONMENT = 'production';
/** The label of incidents that name no service. */
export const NO_SERVICE = 'none';

export interface Durations {
  count: number;
  meanMs: number | null;
  medianMs: number | null;
}

export interface IncidentFigures {
  incidents: number;
  open: number;
  acknowledge: Durations;
  mitigate: Durations;
  resolve: Durations;
  /** Status updates that were due (posted, or overdue now) and those posted on time. */
  updates: { due: number; onTime: number; ratio: number | null };
  escalations: { total: number; incidents: number };
}

export interface DeployFigures {
  /** Operations that ran. */
  executed: number;
  succeeded: number;
  /** Succeeded operations per day and per week of the period (null over an unbounded one). */
  perDay: number | null;
  perWeek: number | null;
  failedChanges: number;
  changeFailureRate: number | null;
  restore: Durations;
  /** Failed changes with no restore yet. */
  unrestored: number;
}

export interface ServiceBudget {
  service: string;
  /** Percent. */
  slo: number;
  budgetMinutes: number;
  spentMinutes: number;
  remainingMinutes: number;
}

export function durations(values: readonly number[]): Durations {
  if (values.length === 0) return { count: 0, meanMs: null, medianMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return {
    count: values.length,
    meanMs: values.reduce((a, b) => a + b, 0) / values.length,
    medianMs: median,
  };
}

const since = (from: Date, to: Date | null): number | null =>
  to === null ? null : Math.max(0, to.getTime() - from.getTime());

const earliest = (...dates: (Date | null)[]): Date | null =>
  dates.reduce<Date | null>((min, d) => (d !== null && (min === null || d < min) ? d : min), null);

/** Per incident: its times, escalations and update punctuality. */
export interface IncidentTimes {
  incident: IncidentFacts;
  acknowledgeMs: number | null;
  mitigateMs: number | null;
  resolveMs: number | null;
  escalations: number;
  updatesDue: number;
  updatesOnTime: number;
}

export function incidentTimes(
  incidents: readonly IncidentFacts[],
  updates: readonly UpdateFacts[],
  cadenceOf: (severity: string) => number | undefined,
  now: Date,
): IncidentTimes[] {
  const byIncident = new Map<number, UpdateFacts[]>();
  for (const u of updates) {
    const list = byIncident.get(u.incidentNumber);
    if (list) list.push(u);
    else byIncident.set(u.incidentNumber, [u]);
  }
  return incidents.map((incident) => {
    const mitigatedAt = incident.mitigatedAt ?? earliest(incident.firstFixAt, incident.firstIdentifiedAt);
    let updatesDue = 0;
    let updatesOnTime = 0;
    const cadence = cadenceOf(incident.severity);
    for (const u of byIncident.get(incident.number) ?? []) {
      const due =
        u.previousDueAt ??
        (cadence === undefined ? null : new Date((u.previousAt ?? incident.startedAt).getTime() + cadence));
      if (due === null) continue;
      updatesDue++;
      if (u.at <= due) updatesOnTime++;
    }
    if (incident.resolvedAt === null && incident.nextUpdateDueAt !== null && incident.nextUpdateDueAt < now)
      updatesDue++;
    return {
      incident,
      acknowledgeMs: since(incident.startedAt, incident.acknowledgedAt),
      mitigateMs: since(incident.startedAt, mitigatedAt),
      resolveMs: since(incident.startedAt, incident.resolvedAt),
      escalations: Math.max(incident.escalatedEvents, incident.escalationLevel),
      updatesDue,
      updatesOnTime,
    };
  });
}

const present = (values: (number | null)[]): number[] => values.filter((v): v is number => v !== null);

export function incidentFigures(times: readonly IncidentTimes[]): IncidentFigures {
  const due = times.reduce((n, t) => n + t.updatesDue, 0);
  const onTime = times.reduce((n, t) => n + t.updatesOnTime, 0);
  return {
    incidents: times.length,
    open: times.filter((t) => t.incident.resolvedAt === null).length,
    acknowledge: durations(present(times.map((t) => t.acknowledgeMs))),
    mitigate: durations(present(times.map((t) => t.mitigateMs))),
    resolve: durations(present(times.map((t) => t.resolveMs))),
    updates: { due, onTime, ratio: due === 0 ? null : onTime / due },
    escalations: {
      total: times.reduce((n, t) => n + t.escalations, 0),
      incidents: times.filter((t) => t.escalations > 0).length,
    },
  };
}

/** The services an incident counts for (each of its affected services, or `none`). */
export function servicesOf(incident: { affectedServices: readonly string[] }): string[] {
  return incident.affectedServices.length > 0 ? [...new Set(incident.affectedServices)] : [NO_SERVICE];
}

/** Per change: whether it failed and how long restoring took. */
export interface ChangeOutcome {
  operation: OperationFacts;
  failed: boolean;
  restoreMs: number | null;
}

export function changeOutcomes(
  operations: readonly OperationFacts[],
  incidents: readonly IncidentFacts[],
  windowMs: number,
): ChangeOutcome[] {
  const ordered = [...operations].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1));
  // Per service and environment, for each operation: the next rollback after it, and the next succeeded one.
  const nextRollback = new Map<OperationFacts, OperationFacts>();
  const nextRestoring = new Map<OperationFacts, OperationFacts>();
  const byTarget = new Map<string, OperationFacts[]>();
  for (const op of ordered) {
    const key = `${op.service}\n${op.environment}`;
    const group = byTarget.get(key);
    if (group) group.push(op);
    else byTarget.set(key, [op]);
  }
  for (const group of byTarget.values()) {
    let rollback: OperationFacts | undefined;
    let restoring: OperationFacts | undefined;
    for (let k = group.length - 1; k >= 0; k--) {
      const op = group[k] as OperationFacts;
      if (rollback) nextRollback.set(op, rollback);
      if (restoring) nextRestoring.set(op, restoring);
      if (op.kind === 'rollback') {
        rollback = op;
        if (op.state === 'succeeded') restoring = op;
      }
    }
  }
  const incidentsOf = new Map<string, IncidentFacts[]>();
  for (const i of incidents)
    for (const service of new Set(i.affectedServices)) {
      const list = incidentsOf.get(service);
      if (list) list.push(i);
      else incidentsOf.set(service, [i]);
    }
  for (const list of incidentsOf.values()) list.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());

  return ordered.map((op) => {
    const windowEnd = op.at.getTime() + windowMs;
    const rollback = nextRollback.get(op);
    const rollbackAfter = rollback && rollback.at.getTime() <= windowEnd ? rollback : undefined;
    const candidate =
      op.environment === INCIDENT_ENVIRONMENT
        ? firstStartedFrom(incidentsOf.get(op.service) ?? [], op.at)
        : undefined;
    const incidentAfter = candidate && candidate.startedAt.getTime() <= windowEnd ? candidate : undefined;
    const failedItself = op.state !== 'succeeded';
    if (!failedItself && rollbackAfter === undefined && incidentAfter === undefined)
      return { operation: op, failed: false, restoreMs: null };
    const end = op.finishedAt ?? op.at;
    const failureStart = failedItself || rollbackAfter ? end : (incidentAfter?.startedAt ?? end);
    const restoring = nextRestoring.get(op);
    const restoredAt = earliest(
      restoring ? (restoring.finishedAt ?? restoring.at) : null,
      incidentAfter?.resolvedAt ?? null,
    );
    return { operation: op, failed: true, restoreMs: since(failureStart, restoredAt) };
  });
}

/** The first incident of `sorted` (by start) started at or after `at` (binary search). */
function firstStartedFrom(sorted: readonly IncidentFacts[], at: Date): IncidentFacts | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as IncidentFacts).startedAt < at) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo];
}

export function deployFigures(outcomes: readonly ChangeOutcome[], periodMs: number | null): DeployFigures {
  const succeeded = outcomes.filter((o) => o.operation.state === 'succeeded').length;
  const failed = outcomes.filter((o) => o.failed);
  return {
    executed: outcomes.length,
    succeeded,
    perDay: periodMs === null || periodMs <= 0 ? null : succeeded / (periodMs / DAY_MS),
    perWeek: periodMs === null || periodMs <= 0 ? null : succeeded / (periodMs / (7 * DAY_MS)),
    failedChanges: failed.length,
    changeFailureRate: outcomes.length === 0 ? null : failed.length / outcomes.length,
    restore: durations(present(failed.map((o) => o.restoreMs))),
    unrestored: failed.filter((o) => o.restoreMs === null).length,
  };
}

/** The calendar month (UTC) `now` is in: the error budget's period, as the runbook's dashboard. */
export function monthOf(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function budgetMinutes(slo: number): number {
  return ((100 - slo) / 100) * (AVERAGE_MONTH_MS / 60_000);
}

/**
 * Minutes of [from, until) during which an incident of a downtime severity affected `service`:
 * overlapping incidents count once.
 */
export function downtimeMinutes(
  facts: readonly DowntimeFacts[],
  service: string,
  severities: ReadonlySet<string>,
  from: Date,
  until: Date,
): number {
  const spans = facts
    .filter((f) => severities.has(f.severity) && f.affectedServices.includes(service))
    .map((f) => [
      Math.max(f.startedAt.getTime(), from.getTime()),
      Math.min((f.resolvedAt ?? until).getTime(), until.getTime()),
    ])
    .filter(([a = 0, b = 0]) => b > a)
    .sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
  let total = 0;
  let current: [number, number] | null = null;
  for (const [a = 0, b = 0] of spans) {
    if (current && a <= current[1]) current[1] = Math.max(current[1], b);
    else {
      if (current) total += current[1] - current[0];
      current = [a, b];
    }
  }
  if (current) total += current[1] - current[0];
  return total / 60_000;
}

export function serviceBudget(
  facts: readonly DowntimeFacts[],
  service: { name: string; slo: number },
  severities: ReadonlySet<string>,
  now: Date,
): ServiceBudget {
  const budget = budgetMinutes(service.slo);
  const spent = downtimeMinutes(facts, service.name, severities, monthOf(now), now);
  return {
    service: service.name,
    slo: service.slo,
    budgetMinutes: budget,
    spentMinutes: spent,
    remainingMinutes: budget - spent,
  };
}
