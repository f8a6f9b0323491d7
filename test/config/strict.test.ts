import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';

/** The problem lines of a refused config (after the "invalid config in …" header). */
function problems(text: string): string[] {
  try {
    parseConfigText(text, 'runbook.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const [header, ...lines] = (error as Error).message.split('\n');
    expect(header).toBe('invalid config in runbook.yml');
    return lines.map((l) => l.trim());
  }
  throw new Error('the config was accepted');
}

const service = [
  'services:',
  '  - name: api',
  '    platform: {kind: kubernetes, namespace: n, deployment: d}',
];

describe('unknown config keys', () => {
  it('refuses `checks:` in a service, naming the path, the line of the key and healthChecks', () => {
    const text = [...service, '    checks:', '      - {type: http, url: "https://api/health"}'].join('\n');
    expect(problems(text)).toEqual([
      'services.0.checks (line 4): unknown key "checks"; did you mean "healthChecks"?',
    ]);
  });

  it('refuses `timeoutMs:` in a health check and suggests timeout', () => {
    const text = [
      ...service,
      '    healthChecks:',
      '      - type: http',
      '        url: https://api/health',
      '        timeoutMs: 2000',
    ].join('\n');
    expect(problems(text)).toEqual([
      'services.0.healthChecks.0.timeoutMs (line 7): unknown key "timeoutMs"; did you mean "timeout"?',
    ]);
  });

  it('refuses a top-level `severitys:` and suggests severities', () => {
    const text = ['organisation: Test', 'severitys:', '  - {name: P1}'].join('\n');
    expect(problems(text)).toEqual([
      'severitys (line 2): unknown key "severitys"; did you mean "severities"?',
    ]);
  });

  it('lists every problem of a file, not only the first, in file order', () => {
    const text = [
      'severitys: []',
      ...service,
      '    healthChecks:',
      '      - {type: redis, url: "redis://cache:6379", timeoutMs: 100}',
      '    checks: []',
      'deploy:',
      '  rollbackErrorRate: 2',
    ].join('\n');
    expect(problems(text)).toEqual([
      'severitys (line 1): unknown key "severitys"; did you mean "severities"?',
      'services.0.healthChecks.0.timeoutMs (line 6): unknown key "timeoutMs"; did you mean "timeout"?',
      'services.0.checks (line 7): unknown key "checks"; did you mean "healthChecks"?',
      'deploy.rollbackErrorRate (line 9): Too big: expected number to be <=1',
    ]);
  });

  it('names the known keys when nothing is close', () => {
    const [line] = problems('channels:\n  pager: "#pager"');
    expect(line).toBe(
      'channels.pager (line 2): unknown key "pager"; known keys here: incidents, deployments',
    );
  });

  it('refuses unknown keys in nested sections and in records of rules', () => {
    const text = [
      'approvals:',
      '  production: {requried: 3}',
      'deploy:',
      '  windows:',
      '    production:',
      '      - {days: [mon], from: "10:00", untill: "12:00"}',
    ].join('\n');
    expect(problems(text)).toEqual([
      'approvals.production.requried (line 2): unknown key "requried"; did you mean "required"?',
      'deploy.windows.production.0.to (line 6): required field missing',
      'deploy.windows.production.0.untill (line 6): unknown key "untill"; known keys here: days, from, to',
    ]);
  });
});

describe('approver groups', () => {
  it('accept Slack user group ids (S…) beside user ids (U…, W…)', () => {
    const config = parseConfigText('approvers:\n  tech-lead: [S0123ABC, U0123ABC, W0123ABC]\n');
    expect(config.approvers['tech-lead']).toEqual(['S0123ABC', 'U0123ABC', 'W0123ABC']);
  });

  it('refuse ids that are neither, each by its path and line', () => {
    const text = ['approvers:', '  tech-lead: [S0123ABC]', '  pm: ["@alice", C0123ABC]'].join('\n');
    expect(problems(text)).toEqual([
      'approvers.pm.0 (line 3): a Slack user id (U…/W…) or user group id (S…)',
      'approvers.pm.1 (line 3): a Slack user id (U…/W…) or user group id (S…)',
    ]);
  });

  it('escalation notify targets are checked the same way', () => {
    const ok = parseConfigText('escalation:\n  levels:\n    - {name: CTO, notify: [S0123ABC, U0123ABC]}\n');
    expect(ok.escalation.levels[0]?.notify).toEqual(['S0123ABC', 'U0123ABC']);
    expect(problems('escalation:\n  levels:\n    - {name: CTO, notify: [bob]}')).toEqual([
      'escalation.levels.0.notify.0 (line 3): a Slack user id (U…/W…) or user group id (S…)',
    ]);
  });
});
