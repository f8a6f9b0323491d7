/**
 * What was paged is what gets acknowledged and resolved, in virtual time against the PagerDuty fake:
 * the follow-ups go to the routing keys the round's triggers went to (read from the outbox), whatever
 * the severity's ladder says now; two severities paging two keys at one level page both; and the
 * outbox sends one incident's pages in the order they were recorded (a resolve, then a reopen's
 * trigger at the same instant, leaves PagerDuty open).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { type PagerDutyFake, startPagerDutyFake } from '../../pagerduty/fake.ts';
import { type IncidentBot, runDueTimers, startIncidentBot } from './helpers.ts';

const KEY_A = 'R0UTINGKEYAAAAAAAAAAAAAAAAAAAAAA';
const KEY_B = 'R0UTINGKEYBBBBBBBBBBBBBBBBBBBBBB';

interface Page {
  action: string;
  key: string;
  ref: string;
}

describe('PagerDuty follow-ups go where the pages went', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let pagerduty: PagerDutyFake;
  let bot: IncidentBot;

  beforeAll(async () => {
    pagerduty = await startPagerDutyFake();
    bot = await startIncidentBot(
      `organisation: Acme
pagerduty:
  endpoint: ${pagerduty.url}
  source: acme-runbook
escalation:
  levels:
    - { name: On-call, notify: [U_BOB] }
  ladders:
    P0:
      - { name: Platform on-call, delay: immediately, notify: [U_BOB], pagerduty: { routingKey: "\${env:PD_A}" } }
    P1:
      - { name: Payments on-call, delay: immediately, notify: [U_CAROL], pagerduty: { routingKey: "\${env:PD_B}" } }
`,
      { PD_A: KEY_A, PD_B: KEY_B },
      { clock },
    );
  });
  afterAll(async () => {
    await bot?.stop();
    await pagerduty?.close();
  });

  /** The incident's pages as recorded (sending order), the idempotency key without the dedup key. */
  async function pages(number: number): Promise<Page[]> {
    return (await bot.runtime.services.repos.pagerduty.list({ incidentNumber: number })).map((p) => ({
      action: String(p.event.action),
      key: p.idempotencyKey.split(':').slice(1).join(':'),
      ref: p.routingKeyRef,
    }));
  }

  const sent = (dedupKey: string) =>
    pagerduty
      .accepted('alert')
      .filter((r) => r.body?.dedup_key === dedupKey)
      .map((r) => [r.body?.event_action, r.body?.routing_key]);

  const resolve = (number: number) =>
    bot.runtime.services.incidents.resolve(number, { actor: 'U_ALICE', resolution: 'Rolled back' });

  it('a P0 paged, made P2 (a ladder that does not page), then resolved: resolved where it was paged', async () => {
    const incident = await bot.declare('P0 Checkout is down');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await runDueTimers(bot);
    expect(sent(dedupKey)).toEqual([['trigger', KEY_A]]);

    clock.advance(60_000);
    expect(await bot.command(`severity INC-${incident.number} P2 only a few customers`)).toContain('P2');
    clock.advance(60_000);
    await resolve(incident.number);
    await runDueTimers(bot);
    const recorded = await pages(incident.number);
    expect(recorded.map((p) => [p.action, p.ref])).toEqual([
      ['trigger', '${env:PD_A}'],
      ['resolve', '${env:PD_A}'],
    ]);
    expect(recorded[0]?.key).toMatch(/^trigger:L1:[0-9a-f]{8}:r0$/);
    expect(sent(dedupKey)).toEqual([
      ['trigger', KEY_A],
      ['resolve', KEY_A],
    ]);
    expect(pagerduty.alerts.get(dedupKey)?.state).toBe('resolved');
  });

  it('a P0 made P1, whose level 1 pages another key: both keys paged, acknowledged and resolved', async () => {
    const incident = await bot.declare('P0 Payments are failing');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await runDueTimers(bot);
    clock.advance(60_000);
    expect(await bot.command(`severity INC-${incident.number} P1 card payments only`)).toContain('P1');
    await runDueTimers(bot);
    // The two triggers at level 1 of round 0 are two pages (one per key), not one dropped as a duplicate.
    expect(sent(dedupKey)).toEqual([
      ['trigger', KEY_A],
      ['trigger', KEY_B],
    ]);

    clock.advance(60_000);
    await bot.runtime.services.incidents.acknowledge(incident.number, { actor: 'U_BOB' });
    clock.advance(60_000);
    await resolve(incident.number);
    await runDueTimers(bot);
    expect((await pages(incident.number)).map((p) => [p.action, p.ref])).toEqual([
      ['trigger', '${env:PD_A}'],
      ['trigger', '${env:PD_B}'],
      ['acknowledge', '${env:PD_A}'],
      ['acknowledge', '${env:PD_B}'],
      ['resolve', '${env:PD_A}'],
      ['resolve', '${env:PD_B}'],
    ]);
    expect(sent(dedupKey).slice(2)).toEqual([
      ['acknowledge', KEY_A],
      ['acknowledge', KEY_B],
      ['resolve', KEY_A],
      ['resolve', KEY_B],
    ]);
  });

  it('a resolve and a reopen at the same instant are sent in that order: PagerDuty is left open', async () => {
    const incident = await bot.declare('P0 Login broken');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await runDueTimers(bot);
    clock.advance(60_000);
    // Resolved and reopened before the outbox sends anything: three pages, two at one instant.
    await resolve(incident.number);
    expect(await bot.command(`reopen INC-${incident.number}`)).toContain('reopened');
    const recorded = await pages(incident.number);
    expect(recorded.map((p) => p.key.replace(/:[0-9a-f]{8}:/, ':'))).toEqual([
      'trigger:L1:r0',
      'resolve:r0',
      'trigger:L1:r1',
    ]);
    const stored = await bot.runtime.services.repos.pagerduty.list({ incidentNumber: incident.number });
    expect(stored[1]?.createdAt.getTime()).toBe(stored[2]?.createdAt.getTime());
    await runDueTimers(bot);
    expect(sent(dedupKey)).toEqual([
      ['trigger', KEY_A],
      ['resolve', KEY_A],
      ['trigger', KEY_A],
    ]);
    expect(pagerduty.alerts.get(dedupKey)).toMatchObject({ state: 'triggered', opened: 2 });
  });
});
