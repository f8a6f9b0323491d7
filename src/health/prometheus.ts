import { z } from 'zod';
import { formatNumber } from './format.ts';
import type { HealthStatus } from './types.ts';

/**
 * Judging a PromQL instant query (`GET /api/v1/query`) against thresholds: used by the
 * `prometheus` health check and, later, by gradual roll-outs deciding on a rollback.
 */

export type ThresholdOp = '>' | '>=' | '<' | '<=';

export interface Threshold {
  op: ThresholdOp;
  value: number;
}

export interface PrometheusRule {
  /** Unhealthy when `value <op> threshold` holds (error rate > 0.001). */
  unhealthyWhen: Threshold;
  /** Optional softer threshold for degraded. */
  degradedWhen?: Threshold;
  /** Shown after numbers in reasons ("s", "%", "req/s"). */
  unit?: string;
}

export interface PrometheusEvaluation {
  status: HealthStatus;
  /** The value judged: the scalar, or the worst sample of a vector. */
  value?: number;
  /** Labels of the worst sample of a vector. */
  labels?: Record<string, string>;
  /** How many samples the answer held (1 for a scalar). */
  samples: number;
  reason?: string;
  /** Warnings Prometheus attached to the answer. */
  warnings: string[];
}

/** True when `value <op> threshold` holds. NaN never breaches. */
export function breaches(value: number, threshold: Threshold): boolean {
  switch (threshold.op) {
    case '>':
      return value > threshold.value;
    case '>=':
      return value >= threshold.value;
    case '<':
      return value < threshold.value;
    case '<=':
      return value <= threshold.value;
  }
}

function withUnit(value: number, unit: string | undefined): string {
  if (!unit) return formatNumber(value);
  return unit === '%' ? `${formatNumber(value)}%` : `${formatNumber(value)} ${unit}`;
}

function labelText(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length > 0 ? ` for {${pairs.join(', ')}}` : '';
}

/** Judges one value: unhealthy threshold first, then degraded. NaN is "no data": degraded. */
export function evaluateValue(
  value: number,
  rule: PrometheusRule,
  labels?: Record<string, string>,
): { status: HealthStatus; reason?: string } {
  if (Number.isNaN(value)) return { status: 'degraded', reason: 'query returned NaN (no data to judge)' };
  const judged: [HealthStatus, Threshold | undefined][] = [
    ['unhealthy', rule.unhealthyWhen],
    ['degraded', rule.degradedWhen],
  ];
  for (const [status, threshold] of judged) {
    if (threshold && breaches(value, threshold)) {
      return {
        status,
        reason:
          `${withUnit(value, rule.unit)} ${threshold.op} ${withUnit(threshold.value, rule.unit)} ` +
          `(${status} threshold)${labelText(labels)}`,
      };
    }
  }
  return { status: 'healthy' };
}

/** Prometheus writes sample values as strings, including "NaN", "+Inf" and "-Inf". */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return text.trim() === '' ? Number.NaN : value;
}

const samplePair = z.tuple([z.number(), z.string()]);

const vectorSample = z.object({
  metric: z.record(z.string(), z.string()).default({}),
  value: samplePair.optional(),
  /** Native histograms carry `histogram` instead of `value`. */
  histogram: z.unknown().optional(),
});

const successAnswer = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({ resultType: z.literal('vector'), result: z.array(vectorSample) }),
    z.object({ resultType: z.literal('scalar'), result: samplePair }),
    z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
    z.object({ resultType: z.literal('string'), result: samplePair }),
  ]),
  warnings: z.array(z.string()).optional(),
});

const errorAnswer = z.object({
  status: z.literal('error'),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});

/** A sample is worse the more it leans towards the unhealthy side of the threshold. */
function worseThan(a: number, b: number, rule: PrometheusRule): boolean {
  return rule.unhealthyWhen.op === '>' || rule.unhealthyWhen.op === '>=' ? a > b : a < b;
}

/**
 * Judges the JSON answer of `GET /api/v1/query` (parsed, unknown shape). A vector is judged by
 * its worst sample (the maximum for `>` rules, the minimum for `<`); an empty vector is no data
 * (degraded); an error answer, a range vector or a string is unhealthy with the reason.
 */
export function evaluatePrometheusAnswer(
  answer: unknown,
  rule: PrometheusRule,
  httpStatus?: number,
): PrometheusEvaluation {
  const failed = errorAnswer.safeParse(answer);
  if (failed.success) {
    const kind = failed.data.errorType ? `${failed.data.errorType}: ` : '';
    const http = httpStatus !== undefined ? ` (HTTP ${httpStatus})` : '';
    return {
      status: 'unhealthy',
      samples: 0,
      reason: `Prometheus query failed${http}: ${kind}${failed.data.error ?? 'no error message'}`,
      warnings: failed.data.warnings ?? [],
    };
  }
  const parsed = successAnswer.safeParse(answer);
  if (!parsed.success) {
    const http = httpStatus !== undefined ? `HTTP ${httpStatus}: ` : '';
    return {
      status: 'unhealthy',
      samples: 0,
      reason: `${http}answer is not Prometheus query API JSON`,
      warnings: [],
    };
  }
  const warnings = parsed.data.warnings ?? [];
  const data = parsed.data.data;
  if (data.resultType === 'scalar') {
    const value = parseSampleValue(data.result[1]);
    return { ...evaluateValue(value, rule), value, samples: 1, warnings };
  }
  if (data.resultType !== 'vector') {
    return {
      status: 'unhealthy',
      samples: data.resultType === 'matrix' ? data.result.length : 1,
      reason: `query returned a ${data.resultType === 'matrix' ? 'range vector (matrix)' : 'string'}: write an instant vector or scalar query`,
      warnings,
    };
  }
  let worst: { value: number; labels: Record<string, string> } | undefined;
  for (const sample of data.result) {
    if (!sample.value) continue;
    const value = parseSampleValue(sample.value[1]);
    if (Number.isNaN(value)) continue;
    if (!worst || worseThan(value, worst.value, rule)) worst = { value, labels: sample.metric };
  }
  if (data.result.length === 0) {
    return { status: 'degraded', samples: 0, reason: 'query returned no data (empty vector)', warnings };
  }
  if (!worst) {
    return {
      status: 'degraded',
      samples: data.result.length,
      reason: 'query returned no usable value (every sample is NaN or a histogram)',
      warnings,
    };
  }
  return {
    ...evaluateValue(worst.value, rule, data.result.length > 1 ? worst.labels : undefined),
    value: worst.value,
    labels: worst.labels,
    samples: data.result.length,
    warnings,
  };
}
