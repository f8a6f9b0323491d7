/**
 * The incident clocks and PagerDuty together, end to end: a P0 declared in Slack pages the fake
 * PagerDuty once (Events API v2, the documented shape), acknowledging in Slack acknowledges there,
 * resolving resolves there (no PagerDuty incident left open), and a slow PagerDuty never holds a
 * button's modal: the form opens at once, the page goes out later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { type PagerDutyFake, startPagerDutyFake } from '../../pagerduty/fake.ts';
import { eventually, type IncidentBot, runDueTimers, startIncidentBot } from './helpers.ts';

const ROUTING_KEY = 'R0UTINGKEY0NCALL000000000000000A';

describe('paging PagerDuty from the incident clocks', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let pagerduty: PagerDutyFake;
  let bot: IncidentBot;

  beforeAll(async () => {
    pagerduty = await startPagerDutyFake();
    bot = await startIncidentBot(
      `organisation: Acme
pagerduty:
  endpoint: ${pagerduty.url}
  routingKey: "\${env:PD_KEY}"
  source: acme-runbook
escalation:
  ladders:
    P0:
      - { name: On-call engineer, delay: immediately, notify: [U_BOB], pagerduty: {} }
      - { name: Tech lead, delay: 30m, notify: [U_CAROL] }
`,
      { PD_KEY: ROUTING_KEY },
      { clock },
    );
  });
  afterAll(async () => {
    await bot?.stop();
    await pagerduty?.close();
  });

  const alertsFor = (dedupKey: string) =>
    pagerduty.accepted('alert').filter((r) => r.body?.dedup_key === dedupKey);

  it('triggers once on declare, acknowledges with the Slack acknowledgement, resolves with the resolve', async () => {
    const incident = await bot.declare('P0 Checkout is down');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await runDueTimers(bot);
    await eventually(() => expect(alertsFor(dedupKey)).toHaveLength(1));
    const [trigger] = alertsFor(dedupKey);
    expect(trigger?.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: dedupKey,
      payload: { source: 'acme-runbook', severity: 'critical' },
    });
    expect(JSON.stringify(trigger?.body?.payload)).toContain('Checkout is down');
    expect(trigger?.body?.links).toEqual([
      { href: `https://slack.com/archives/${incident.channelId}`, text: `INC-${incident.number} channel` },
    ]);
    // Polling again (a retry, another replica) sends nothing more.
    await runDueTimers(bot);
    expect(alertsFor(dedupKey)).toHaveLength(1);

    clock.advance(5 * 60_000);
    await bot.slack.clickButton({
      message: { channelId: incident.channelId ?? '', ts: incident.headline?.ts ?? '' },
      actionId: 'incident_acknowledge',
      userId: 'U_BOB',
    });
    await eventually(async () =>
      expect((await bot.runtime.services.repos.incidents.get(incident.number))?.acknowledgedBy).toBe('U_BOB'),
    );
    await runDueTimers(bot);
    await eventually(() => expect(pagerduty.alerts.get(dedupKey)?.state).toBe('acknowledged'));

    // Resolve through the headline's button, PagerDuty slow: the form opens first, regardless.
    pagerduty.delayNext(5_000);
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: incident.channelId ?? '', ts: incident.headline?.ts ?? '' },
      actionId: 'incident_resolve',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: { resolution: { resolution: 'Rolled back' } },
    });
    await eventually(async () =>
      expect((await bot.runtime.services.repos.incidents.get(incident.number))?.status).toBe('resolved'),
    );
    // The slow answer is a timeout for the sender: retried, and PagerDuty ends resolved.
    for (let i = 0; i < 5 && pagerduty.alerts.get(dedupKey)?.state !== 'resolved'; i++) {
      await runDueTimers(bot);
      clock.advance(60_000);
    }
    expect(pagerduty.alerts.get(dedupKey)?.state).toBe('resolved');
    expect(pagerduty.alerts.get(dedupKey)?.opened).toBe(1);
  });
});
