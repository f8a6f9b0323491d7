/**
 * What was paged is what gets acknowledged and resolved, in virtual time against the PagerDuty fake:
 * the follow-ups go to the routing keys the round's triggers went to (read from the outbox), whatever
 * the severity's ladder says now; two severities paging two keys at one level page both; and the
 * outbox sends one incident's pages in the order they were recorded (a resolve, then a reopen's
 * trigger at the same instant, leaves PagerDuty open).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import type { Incident } from '../../../src/incidents/incident.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { type PagerDutyFake, startPagerDutyFake } from '../../pagerduty/fake.ts';
import { eventually } from './helpers.ts';

const KEY_A = 'R0UTINGKEYAAAAAAAAAAAAAAAAAAAAAA';
const KEY_B = 'R0UTINGKEYBBBBBBBBBBBBBBBBBBBBBB';

interface Page {
  action: string;
  key: string;
  ref: string;
}

describe('PagerDuty follow-ups go where the pages went', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const dir = mkdtempSync(join(tmpdir(), 'paging-rounds-e2e-'));
  let pagerduty: PagerDutyFake;
  let bot: TestBot;

  beforeAll(async () => {
    pagerduty = await startPagerDutyFake();
    const configPath = join(dir, 'runbook.yml');
    writeFileSync(
      configPath,
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
    );
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: configPath, PD_A: KEY_A, PD_B: KEY_B }, clock });
  });
  afterAll(async () => {
    await bot?.stop();
    await pagerduty?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function command(text: string, channelId = 'C_INCIDENTS'): Promise<string> {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command: '/incident', text, userId: 'U_ALICE', channelId });
    const inAck =
      typeof res.json === 'object' && res.json !== null && 'text' in res.json ? res.json.text : undefined;
    if (typeof inAck === 'string') return inAck;
    return String((await bot.sim.waitForResponse({ since })).body.text ?? '');
  }

  async function declare(text: string): Promise<Incident> {
    const answer = await command(`declare ${text}`);
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    return eventually(async () => {
      const found = await bot.runtime.services.repos.incidents.get(number);
      if (!found?.channelId || !found.headline) throw new Error(`not set up: ${answer}`);
      return found;
    });
  }

  /** The incident's pages as recorded (sending order), the idempotency key without the dedup key. */
  async function pages(number: number): Promise<Page[]> {
    return (await bot.runtime.services.repos.pagerduty.list({ incidentNumber: number })).map((p) => ({
      action: String(p.event.action),
      key: p.idempotencyKey.split(':').slice(1).join(':'),
      ref: p.routingKeyRef,
    }));
  }

  /** Runs the due timers until nothing more is due. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const { taken } = await bot.runtime.timers.poll();
      if (taken === 0 && i > 1) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const sent = (dedupKey: string) =>
    pagerduty
      .accepted('alert')
      .filter((r) => r.body?.dedup_key === dedupKey)
      .map((r) => [r.body?.event_action, r.body?.routing_key]);

  const resolve = (number: number) =>
    bot.runtime.services.incidents.resolve(number, { actor: 'U_ALICE', resolution: 'Rolled back' });

  it('a P0 paged, made P2 (a ladder that does not page), then resolved: resolved where it was paged', async () => {
    const incident = await declare('P0 Checkout is down');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await settle();
    expect(sent(dedupKey)).toEqual([['trigger', KEY_A]]);

    clock.advance(60_000);
    expect(await command(`severity INC-${incident.number} P2 only a few customers`)).toContain('P2');
    clock.advance(60_000);
    await resolve(incident.number);
    await settle();
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
    const incident = await declare('P0 Payments are failing');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await settle();
    clock.advance(60_000);
    expect(await command(`severity INC-${incident.number} P1 card payments only`)).toContain('P1');
    await settle();
    // The two triggers at level 1 of round 0 are two pages (one per key), not one dropped as a duplicate.
    expect(sent(dedupKey)).toEqual([
      ['trigger', KEY_A],
      ['trigger', KEY_B],
    ]);

    clock.advance(60_000);
    await bot.runtime.services.incidents.acknowledge(incident.number, { actor: 'U_BOB' });
    clock.advance(60_000);
    await resolve(incident.number);
    await settle();
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
    const incident = await declare('P0 Login broken');
    const dedupKey = `runbook-acme-INC-${incident.number}`;
    await settle();
    clock.advance(60_000);
    // Resolved and reopened before the outbox sends anything: three pages, two at one instant.
    await resolve(incident.number);
    expect(await command(`reopen INC-${incident.number}`)).toContain('reopened');
    const recorded = await pages(incident.number);
    expect(recorded.map((p) => p.key.replace(/:[0-9a-f]{8}:/, ':'))).toEqual([
      'trigger:L1:r0',
      'resolve:r0',
      'trigger:L1:r1',
    ]);
    const stored = await bot.runtime.services.repos.pagerduty.list({ incidentNumber: incident.number });
    expect(stored[1]?.createdAt.getTime()).toBe(stored[2]?.createdAt.getTime());
    await settle();
    expect(sent(dedupKey)).toEqual([
      ['trigger', KEY_A],
      ['resolve', KEY_A],
      ['trigger', KEY_A],
    ]);
    expect(pagerduty.alerts.get(dedupKey)).toMatchObject({ state: 'triggered', opened: 2 });
  });
});
