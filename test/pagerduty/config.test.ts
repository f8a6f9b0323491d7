/** The `pagerduty` config block, and the mapping of our severities onto PagerDuty's. */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { incidentDedupKey, pagerDutySeverity } from '../../src/pagerduty/alerts.ts';
import { changeRoutingKeyRef } from '../../src/pagerduty/change-events.ts';

const parse = (text: string) => parseConfigText(text, 'runbook.yml');

function refusal(text: string): string {
  try {
    parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('pagerduty config', () => {
  it('has PagerDuty’s endpoint, runbook-bot and 3 tries 30 s apart by default, and pages nowhere', () => {
    const { pagerduty } = parse('organisation: Test\n');
    expect(pagerduty).toEqual({
      endpoint: 'https://events.pagerduty.com',
      source: 'runbook-bot',
      retry: { attempts: 3, delay: 30_000 },
    });
    expect(changeRoutingKeyRef(pagerduty)).toBeNull();
  });

  it('keeps the defaults of the fields left out; change events go to the routing key unless told otherwise', () => {
    const { pagerduty } = parse('pagerduty:\n  routingKey: "${env:PD_KEY}"\n  retry: { delay: 1m }\n');
    expect(pagerduty.retry).toEqual({ attempts: 3, delay: 60_000 });
    expect(changeRoutingKeyRef(pagerduty)).toBe('${env:PD_KEY}');
    const own = parse('pagerduty:\n  routingKey: "${env:PD_KEY}"\n  changeEvents: "${env:PD_CHANGES}"\n');
    expect(changeRoutingKeyRef(own.pagerduty)).toBe('${env:PD_CHANGES}');
    const none = parse('pagerduty:\n  routingKey: "${env:PD_KEY}"\n  changeEvents: false\n');
    expect(changeRoutingKeyRef(none.pagerduty)).toBeNull();
  });

  it('refuses a routing key written as a literal, and unknown keys', () => {
    expect(refusal('pagerduty:\n  routingKey: 0123456789abcdef0123456789abcdef\n')).toContain(
      'pagerduty.routingKey (line 2): a routing key is a secret: write it as a reference such as "${env:PAGERDUTY_ROUTING_KEY}"',
    );
    expect(refusal('pagerduty:\n  routingkey: "${env:PD_KEY}"\n')).toContain('did you mean "routingKey"?');
    expect(refusal('pagerduty:\n  endpoint: not a url\n')).toContain('pagerduty.endpoint (line 2)');
  });
});

describe('alert pages', () => {
  it('map severities by rank: BARQ P0 critical … P3 info; one dedup key per incident', () => {
    const ladder = parse('organisation: Test\n').severities;
    expect(ladder.map((s) => pagerDutySeverity(s.name, ladder))).toEqual([
      'critical',
      'error',
      'warning',
      'info',
    ]);
    expect(pagerDutySeverity('P9', ladder)).toBe('error');
    expect(pagerDutySeverity('P4', [...ladder, { name: 'P4' }])).toBe('info');
    expect(incidentDedupKey('Acme Corp', 42)).toBe('runbook-acme-corp-INC-42');
  });
});
