import { describe, expect, it } from 'vitest';
import {
  breaches,
  evaluatePrometheusAnswer,
  evaluateValue,
  type PrometheusRule,
  parseSampleValue,
} from '../../src/health/prometheus.ts';

const errorRate: PrometheusRule = {
  unhealthyWhen: { op: '>', value: 0.05 },
  degradedWhen: { op: '>', value: 0.001 },
};

describe('threshold evaluation (also used by roll-outs)', () => {
  it('compares with each operator', () => {
    expect(breaches(2, { op: '>', value: 1 })).toBe(true);
    expect(breaches(1, { op: '>', value: 1 })).toBe(false);
    expect(breaches(1, { op: '>=', value: 1 })).toBe(true);
    expect(breaches(0.5, { op: '<', value: 1 })).toBe(true);
    expect(breaches(1, { op: '<=', value: 1 })).toBe(true);
    expect(breaches(Number.NaN, { op: '<', value: 1 })).toBe(false);
  });

  it('judges the unhealthy threshold before the degraded one', () => {
    expect(evaluateValue(0.0004, errorRate)).toEqual({ status: 'healthy' });
    expect(evaluateValue(0.002, errorRate)).toEqual({
      status: 'degraded',
      reason: '0.002 > 0.001 (degraded threshold)',
    });
    expect(evaluateValue(0.06, errorRate)).toEqual({
      status: 'unhealthy',
      reason: '0.06 > 0.05 (unhealthy threshold)',
    });
    expect(evaluateValue(Number.NaN, errorRate).status).toBe('degraded');
  });

  it('writes units', () => {
    const rule: PrometheusRule = { unhealthyWhen: { op: '>', value: 5 }, unit: '%' };
    expect(evaluateValue(7.5, rule).reason).toBe('7.5% > 5% (unhealthy threshold)');
  });

  it('reads Prometheus sample strings, infinities included', () => {
    expect(parseSampleValue('0.25')).toBe(0.25);
    expect(parseSampleValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parseSampleValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue('NaN')).toBeNaN();
    const inf = evaluatePrometheusAnswer(
      { status: 'success', data: { resultType: 'scalar', result: [1, '+Inf'] } },
      errorRate,
    );
    expect(inf).toMatchObject({ status: 'unhealthy', reason: '+Inf > 0.05 (unhealthy threshold)' });
  });

  it('a scalar NaN (no traffic: 0/0) is no data', () => {
    const result = evaluatePrometheusAnswer(
      { status: 'success', data: { resultType: 'scalar', result: [1, 'NaN'] } },
      errorRate,
    );
    expect(result).toMatchObject({ status: 'degraded', reason: 'query returned NaN (no data to judge)' });
  });

  it('keeps warnings and refuses shapes that are not the query API', () => {
    const warned = evaluatePrometheusAnswer(
      { status: 'success', data: { resultType: 'vector', result: [] }, warnings: ['partial response'] },
      errorRate,
    );
    expect(warned.warnings).toEqual(['partial response']);
    expect(evaluatePrometheusAnswer({ hello: 'world' }, errorRate, 200)).toMatchObject({
      status: 'unhealthy',
      reason: 'HTTP 200: answer is not Prometheus query API JSON',
    });
  });
});
