/** The escalation ladder config (escalation.ladders, escalation.levels) and incidents.updateGrace. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { ladderFor } from '../../src/incidents/ladder.ts';
import { escalateArgs } from '../../src/slack/incidents/escalation.ts';

describe('escalation ladders in config', () => {
  it('reads a ladder per severity: delays from the declaration, notify, PagerDuty key references, actions', () => {
    const config = parseConfigText(`
escalation:
  ladders:
    P0:
      - { name: On-call engineer, delay: immediately, notify: [S0ONCALL01], pagerduty: { routingKey: "\${env:PD_ONCALL_KEY}" } }
      - { name: Tech lead, delay: 30m, notify: [U0TECHLEAD] }
      - { name: Declare outage, delay: 1h, action: { text: "Declare an outage", postIn: ["#incidents"] } }
`);
    expect(ladderFor(config, 'P0')).toEqual([
      {
        level: 1,
        name: 'On-call engineer',
        delayMs: 0,
        notify: ['S0ONCALL01'],
        routingKeyRef: '${env:PD_ONCALL_KEY}',
        action: null,
      },
      {
        level: 2,
        name: 'Tech lead',
        delayMs: 30 * 60_000,
        notify: ['U0TECHLEAD'],
        routingKeyRef: null,
        action: null,
      },
      {
        level: 3,
        name: 'Declare outage',
        delayMs: 3_600_000,
        notify: [],
        routingKeyRef: null,
        action: { text: 'Declare an outage', postIn: ['#incidents'] },
      },
    ]);
    // No ladder of its own, no levels: nothing to escalate to.
    expect(ladderFor(config, 'P1')).toEqual([]);
    expect(config.incidents.updateGrace).toBe(5 * 60_000);
  });

  it('keeps escalation.levels working as every severity’s ladder, a response time apart', () => {
    const config = parseConfigText(
      'escalation:\n  levels:\n    - { name: On-call, notify: [U1] }\n    - { name: Tech lead }\n    - { name: CTO }\n',
    );
    expect(ladderFor(config, 'P1').map((l) => [l.name, l.delayMs])).toEqual([
      ['On-call', 0],
      ['Tech lead', 30 * 60_000],
      ['CTO', 60 * 60_000],
    ]);
    expect(ladderFor(config, 'P0').map((l) => l.delayMs)).toEqual([0, 15 * 60_000, 30 * 60_000]);
  });

  it('refuses a literal routing key, a ladder of no severity and a bad delay, each at its path', () => {
    expect(() =>
      parseConfigText(
        'escalation:\n  ladders:\n    P0:\n      - { name: A, pagerduty: { routingKey: abc123 } }\n',
      ),
    ).toThrow(/escalation\.ladders\.P0\.0\.pagerduty\.routingKey.*\$\{env:PAGERDUTY_ROUTING_KEY\}/);
    expect(() => parseConfigText('escalation:\n  ladders:\n    P9:\n      - { name: A }\n')).toThrow(
      /escalation\.ladders\.P9.*no severity P9/,
    );
    expect(() =>
      parseConfigText('escalation:\n  ladders:\n    P0:\n      - { name: A, delay: soon }\n'),
    ).toThrow(/escalation\.ladders\.P0\.0\.delay/);
  });
});

describe('/incident escalate arguments', () => {
  const ladder = [
    { level: 1, name: 'On-call engineer' },
    { level: 2, name: 'Tech lead' },
    { level: 3, name: 'CTO' },
  ];
  it('reads a level by number or name, then the reason', () => {
    expect(escalateArgs('2 database down', ladder)).toEqual({ level: 2, reason: 'database down' });
    expect(escalateArgs('L3', ladder)).toEqual({ level: 3, reason: '' });
    expect(escalateArgs('level 2 still down', ladder)).toEqual({ level: 2, reason: 'still down' });
    expect(escalateArgs('tech lead needs a decision', ladder)).toEqual({
      level: 2,
      reason: 'needs a decision',
    });
    expect(escalateArgs('customers are angry', ladder)).toEqual({ reason: 'customers are angry' });
    expect(escalateArgs('', ladder)).toEqual({ reason: '' });
  });
});
