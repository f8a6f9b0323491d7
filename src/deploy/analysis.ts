/**
 * The analysis between the steps of a roll-out, the way Argo Rollouts describes it: a metric is
 * measured every `interval`, `count` times; each measurement is successful, failed or inconclusive by
 * its `failureCondition` / `successCondition`; more than `failureLimit` failed measurements fail the
 * step. Providers: the service's health checks (the result is healthy, degraded or unhealthy) or a
 * PromQL instant query (`GET /api/v1/query`) to the Prometheus of the service's first prometheus
 * health check. A metric that cannot be read is inconclusive: the roll-out pauses for a human.
 */
import { ROLLOUT_CONDITION, type ServiceConfig } from '../config/schema.ts';
import { preparePrometheusCheck } from '../health/checks/prometheus.ts';
import { Redactor } from '../health/redact.ts';
import type { HealthService } from '../health/service.ts';
import type { Measurement } from '../store/repositories/rollouts.ts';
import type { PlannedMetric } from './rollout-plan.ts';

/** Every read has a deadline: a metric that does not answer in time is inconclusive. */
export const MEASURE_DEADLINE_MS = 2_000;

export interface MeasureDeps {
  health: HealthService;
  env: NodeJS.ProcessEnv;
  deadlineMs?: number;
}

export type MeasuredValue = Pick<Measurement, 'value' | 'phase' | 'detail'>;

/** True / false when the condition can be judged on the value; undefined when it cannot. */
export function holds(condition: string, value: number | string): boolean | undefined {
  const match = ROLLOUT_CONDITION.exec(condition);
  if (!match) return undefined;
  const op = match[1] ?? '';
  const text = match[3] ?? '';
  const wanted = Number(text);
  if (typeof value === 'number' && Number.isFinite(wanted) && text !== '') {
    switch (op) {
      case '>':
        return value > wanted;
      case '>=':
        return value >= wanted;
      case '<':
        return value < wanted;
      case '<=':
        return value <= wanted;
      case '==':
        return value === wanted;
      case '!=':
        return value !== wanted;
    }
  }
  if (op === '==') return String(value) === text;
  if (op === '!=') return String(value) !== text;
  return undefined;
}

/** Argo's phases: a failure condition that holds fails; a success condition that does not hold fails too (inconclusive when both are given and neither holds). */
export function judge(metric: PlannedMetric, value: number | string): MeasuredValue {
  const failed = metric.failureCondition ? holds(metric.failureCondition, value) : undefined;
  const succeeded = metric.successCondition ? holds(metric.successCondition, value) : undefined;
  if (failed === true) return { value, phase: 'failed', detail: `${metric.failureCondition}` };
  if (metric.successCondition) {
    if (succeeded === true) return { value, phase: 'successful', detail: `${metric.successCondition}` };
    if (succeeded === false && !metric.failureCondition)
      return { value, phase: 'failed', detail: `not ${metric.successCondition}` };
    return {
      value,
      phase: 'inconclusive',
      detail: `neither ${metric.failureCondition ?? 'a failure'} nor ${metric.successCondition} holds`,
    };
  }
  if (failed === undefined)
    return {
      value,
      phase: 'inconclusive',
      detail: `${metric.failureCondition} cannot be judged on ${value}`,
    };
  return { value, phase: 'successful', detail: `not ${metric.failureCondition}` };
}

async function read(
  metric: PlannedMetric,
  service: ServiceConfig,
  deps: MeasureDeps,
): Promise<{ value: number | string } | { unreadable: string }> {
  const deadlineMs = deps.deadlineMs ?? MEASURE_DEADLINE_MS;
  if (metric.provider === 'health') {
    if (service.healthChecks.length === 0) return { unreadable: `${service.name} has no health checks` };
    try {
      const report = await deps.health.checkService(service.name, service.environment, { deadlineMs });
      return { value: report.status };
    } catch (error) {
      return {
        unreadable: `the health checks could not run: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  const check = service.healthChecks.find((c) => c.type === 'prometheus');
  if (!check) {
    return { unreadable: `${service.name} has no prometheus health check to take the Prometheus URL from` };
  }
  const prepared = preparePrometheusCheck(
    {
      ...check,
      query: metric.query ?? check.query,
      unhealthyWhen: { op: '>', value: Number.POSITIVE_INFINITY },
    },
    { env: deps.env, redactor: new Redactor() },
  );
  const signal = AbortSignal.timeout(deadlineMs);
  try {
    const outcome = await prepared.run(signal, deadlineMs);
    const value = outcome.details?.value;
    if (typeof value === 'number') return { value };
    return { unreadable: outcome.reason ?? 'Prometheus returned no value' };
  } catch (error) {
    return {
      unreadable: signal.aborted
        ? `Prometheus did not answer within ${deadlineMs} ms`
        : `Prometheus query failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** One measurement of one metric (never throws: what cannot be read is inconclusive). */
export async function measure(
  metric: PlannedMetric,
  service: ServiceConfig,
  deps: MeasureDeps,
): Promise<MeasuredValue> {
  const got = await read(metric, service, deps);
  if ('unreadable' in got) return { value: null, phase: 'inconclusive', detail: got.unreadable };
  return judge(metric, got.value);
}

/** "0.3 %" for a rate between 0 and 1 named like one, else the number or status as is. */
export function formatValue(metricName: string, value: number | string | null): string {
  if (value === null) return 'unreadable';
  if (typeof value === 'string') return value;
  if (/rate|ratio/i.test(metricName) && value >= 0 && value <= 1) {
    return `${Number((value * 100).toFixed(2))} %`;
  }
  return String(Number(value.toPrecision(4)));
}
