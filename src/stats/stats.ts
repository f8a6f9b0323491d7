/**
 * Incident and deploy statistics over a period (`/incident stats`, /metrics): reads through
 * StatsRepository, figures from src/stats/figures.ts.
 */
import type { Clock } from '../clock.ts';
import type { RunbookConfig } from '../config/schema.ts';
import type { StatsRepository } from '../store/repositories/stats.ts';
import {
  changeOutcomes,
  type DeployFigures,
  deployFigures,
  type IncidentFigures,
  incidentFigures,
  incidentTimes,
  monthOf,
  type ServiceBudget,
  serviceBudget,
  servicesOf,
} from './figures.ts';

export interface StatsQuery {
  /** How far back from now. */
  sinceMs: number;
  /** Only this service's incidents, changes and budget. */
  service?: string;
}

export interface StatsReport {
  since: Date;
  until: Date;
  service: string | null;
  overall: IncidentFigures;
  bySeverity: { severity: string; figures: IncidentFigures }[];
  byService: { service: string; figures: IncidentFigures }[];
  deploys: DeployFigures;
  deploysByService: { service: string; environment: string; figures: DeployFigures }[];
  budget: { month: Date; severities: string[]; services: ServiceBudget[] };
}

export interface StatsDeps {
  stats: StatsRepository;
  config: RunbookConfig;
  clock: Clock;
}

/** Unique service names of the config, each with its SLO (its production entry's, else the first). */
export function configuredServices(config: RunbookConfig): { name: string; slo: number }[] {
  const byName = new Map<string, { name: string; slo: number; production: boolean }>();
  for (const s of config.services) {
    const known = byName.get(s.name);
    if (!known || (!known.production && s.environment === 'production'))
      byName.set(s.name, { name: s.name, slo: s.slo, production: s.environment === 'production' });
  }
  return [...byName.values()].map(({ name, slo }) => ({ name, slo }));
}

export class Stats {
  readonly #deps: StatsDeps;

  constructor(deps: StatsDeps) {
    this.#deps = deps;
  }

  cadenceOf = (severity: string): number | undefined =>
    this.#deps.config.severities.find((s) => s.name === severity)?.updateCadence;

  async report(query: StatsQuery): Promise<StatsReport> {
    const { stats, config, clock } = this.#deps;
    const until = clock.now();
    const since = new Date(until.getTime() - query.sinceMs);
    const range = { since, until };
    const month = monthOf(until);
    const [incidents, updates, operations, downtime] = await Promise.all([
      stats.incidents(range),
      stats.updates(range),
      stats.operations(range),
      stats.overlapping(month, until),
    ]);
    const service = query.service ?? null;
    const times = incidentTimes(incidents, updates, this.cadenceOf, until).filter(
      (t) => service === null || t.incident.affectedServices.includes(service),
    );
    const severityOrder = config.severities.map((s) => s.name);
    const severities = [...new Set(times.map((t) => t.incident.severity))].sort(
      (a, b) => rank(severityOrder, a) - rank(severityOrder, b) || a.localeCompare(b),
    );
    const serviceNames = [...new Set(times.flatMap((t) => servicesOf(t.incident)))]
      .filter((s) => service === null || s === service)
      .sort();
    const outcomes = changeOutcomes(operations, incidents, config.stats.changeFailureWindow).filter(
      (o) => service === null || o.operation.service === service,
    );
    const targets = [
      ...new Set(outcomes.map((o) => `${o.operation.service}\n${o.operation.environment}`)),
    ].sort();
    const periodMs = query.sinceMs;
    const downtimeSeverities = new Set(config.stats.downtimeSeverities);
    return {
      since,
      until,
      service,
      overall: incidentFigures(times),
      bySeverity: severities.map((severity) => ({
        severity,
        figures: incidentFigures(times.filter((t) => t.incident.severity === severity)),
      })),
      byService: serviceNames.map((name) => ({
        service: name,
        figures: incidentFigures(times.filter((t) => servicesOf(t.incident).includes(name))),
      })),
      deploys: deployFigures(outcomes, periodMs),
      deploysByService: targets.map((key) => {
        const [name = '', environment = ''] = key.split('\n');
        return {
          service: name,
          environment,
          figures: deployFigures(
            outcomes.filter((o) => o.operation.service === name && o.operation.environment === environment),
            periodMs,
          ),
        };
      }),
      budget: {
        month,
        severities: config.stats.downtimeSeverities,
        services: configuredServices(config)
          .filter((s) => service === null || s.name === service)
          .map((s) => serviceBudget(downtime, s, downtimeSeverities, until)),
      },
    };
  }
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}
