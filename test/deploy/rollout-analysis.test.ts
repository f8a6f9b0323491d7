/** The roll-out's analysis rules and config: conditions, Argo's phases, the default, refusals. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';
import { formatValue, holds, judge } from '../../src/deploy/analysis.ts';
import { analysisFor } from '../../src/deploy/rollout-plan.ts';

const base = (rollout: string, checks = '[]') =>
  [
    'services:',
    '  - name: api',
    '    platform: { kind: cloudrun, project: p, region: r, service: api }',
    `    healthChecks: ${checks}`,
    ...(rollout ? [`    rollout: ${rollout}`] : []),
    '',
  ].join('\n');

function refused(text: string): string {
  try {
    parseConfigText(text, 'runbook.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('roll-out analysis', () => {
  it('judges `result <op> <value>` on numbers and on health statuses', () => {
    expect(holds('result > 0.05', 0.08)).toBe(true);
    expect(holds('result > 0.05', 0.05)).toBe(false);
    expect(holds('result[0] <= 2', 2)).toBe(true);
    expect(holds('result == unhealthy', 'unhealthy')).toBe(true);
    expect(holds('result != "healthy"', 'degraded')).toBe(true);
    expect(holds('result > 0.05', 'healthy')).toBeUndefined();
  });

  it("has Argo's phases: failure wins, a success condition that does not hold fails, both unmet is inconclusive", () => {
    const metric = { name: 'm', provider: 'prometheus' as const, intervalMs: 1, count: 1, failureLimit: 0 };
    expect(judge({ ...metric, failureCondition: 'result > 0.05' }, 0.1).phase).toBe('failed');
    expect(judge({ ...metric, failureCondition: 'result > 0.05' }, 0.01).phase).toBe('successful');
    expect(judge({ ...metric, successCondition: 'result < 0.01' }, 0.02).phase).toBe('failed');
    expect(judge({ ...metric, successCondition: 'result < 0.01' }, 0.001).phase).toBe('successful');
    expect(
      judge({ ...metric, failureCondition: 'result > 0.05', successCondition: 'result < 0.01' }, 0.03).phase,
    ).toBe('inconclusive');
    expect(formatValue('error rate', 0.003)).toBe('0.3 %');
    expect(formatValue('latency', 0.25)).toBe('0.25');
  });

  it('defaults to the error rate above deploy.rollbackErrorRate for deploy.rollbackAfter, else the health checks', () => {
    const prometheus =
      '[{ type: prometheus, url: "http://prom:9090", query: "rate_5xx", unhealthyWhen: { op: ">", value: 0.05 } }]';
    const config = parseConfigText(base('', prometheus));
    const service = config.services[0]!;
    expect(service.rollout).toEqual({ steps: [10, 50, 100], interval: 300_000 });
    expect(analysisFor(service, config.deploy)).toEqual([
      {
        name: 'error rate',
        provider: 'prometheus',
        query: 'rate_5xx',
        intervalMs: 60_000,
        count: 5,
        failureCondition: 'result > 0.05',
        failureLimit: 4,
      },
    ]);
    const plain = parseConfigText(base('{ interval: 2m }'));
    expect(analysisFor(plain.services[0]!, plain.deploy)[0]).toMatchObject({
      provider: 'health',
      failureCondition: 'result == unhealthy',
    });
    expect(plain.services[0]!.rollout.interval).toBe(120_000);
  });

  it('refuses steps that do not ascend to 100, a condition it cannot read, a prometheus metric without a query', () => {
    expect(refused(base('{ steps: [50, 10] }'))).toContain('steps must ascend and end at 100');
    expect(refused(base('{ steps: [10, 50] }'))).toContain('steps must ascend and end at 100');
    expect(
      refused(
        base(
          '{ analysis: [{ name: e, provider: prometheus, query: q, failureCondition: "errors are high" }] }',
        ),
      ),
    ).toContain('write `result <op> <value>`');
    expect(
      refused(base('{ analysis: [{ name: e, provider: prometheus, failureCondition: "result > 1" }] }')),
    ).toContain('a prometheus metric needs a query');
    expect(refused(base('{ analysis: [{ name: e, provider: health }] }'))).toContain(
      'give a failureCondition or a successCondition',
    );
  });
});
