/**
 * The incident clocks in virtual time, through signed Slack requests: escalation ladders (exactly at
 * their delays, paging PagerDuty once through the outbox), acknowledging, resolving, `/incident
 * escalate`, and the ladder's timers across two replicas and a restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { routingKeyTag } from '../../../src/incidents/escalation.ts';
import type { Incident } from '../../../src/incidents/incident.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { eventually } from './helpers.ts';

const MINUTE = 60_000;
/** The on-call key's tag in the pages' idempotency keys. */
const ONCALL = routingKeyTag('${env:PD_ONCALL_KEY}');

// Pages are recorded here; sending them is test/incidents/e2e/paging.test.ts' (an endpoint that refuses).
const CONFIG = `organisation: Acme Corp
pagerduty:
  endpoint: http://127.0.0.1:9
escalation:
  levels:
    - { name: On-call, notify: [U_BOB] }
    - { name: Tech lead, notify: [U_CAROL] }
    - { name: CTO, notify: [U_DAN] }
  ladders:
    P0:
      - { name: On-call engineer, delay: immediately, notify: [S_ONCALL], pagerduty: { routingKey: "\${env:PD_ONCALL_KEY}" } }
      - { name: Tech lead, delay: 30m, notify: [U_CAROL] }
      - name: CTO
        delay: 1h
        notify: [U_DAN]
        action: { text: Declare an outage and notify customers, postIn: ["#incidents"] }
`;

interface Page {
  action: string;
  idempotency_key: string;
  routing_key_ref: string;
  dedup: string;
}

describe('escalation ladders, acknowledgement and /incident escalate', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const dir = mkdtempSync(join(tmpdir(), 'escalation-e2e-'));
  const configPath = join(dir, 'runbook.yml');
  writeFileSync(configPath, CONFIG);
  const env = { RUNBOOK_CONFIG: configPath, PD_ONCALL_KEY: 'R0UTINGKEY0NCALL000000000000000' };
  let bot: TestBot;

  beforeAll(async () => {
    bot = await startTestBot({ env, clock });
  });
  afterAll(async () => {
    await bot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function command(on: TestBot, text: string, userId = 'U_ALICE', channelId = 'C_INCIDENTS') {
    const since = on.sim.responses.length;
    const res = await on.slack.slashCommand({ command: '/incident', text, userId, channelId });
    const inAck =
      typeof res.json === 'object' && res.json !== null && 'text' in res.json ? res.json.text : undefined;
    if (typeof inAck === 'string') return inAck;
    return String((await on.sim.waitForResponse({ since })).body.text ?? '');
  }

  async function declare(on: TestBot, text: string): Promise<Incident> {
    const answer = await command(on, `declare ${text}`);
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await eventually(async () => {
      const found = await on.runtime.services.repos.incidents.get(number);
      if (!found?.channelId || !found.headline) throw new Error(`not set up: ${answer}`);
      return found;
    });
    return incident;
  }

  const get = async (number: number): Promise<Incident> => {
    const found = await bot.runtime.services.repos.incidents.get(number);
    if (!found) throw new Error(`no INC-${number}`);
    return found;
  };

  async function pages(number: number): Promise<Page[]> {
    const { rows } = await bot.runtime.services.db.query<Page>(
      `SELECT event->>'action' AS action, event->>'dedupKey' AS dedup, idempotency_key, routing_key_ref
         FROM pagerduty_events WHERE incident_number = $1 ORDER BY created_at, idempotency_key`,
      [number],
    );
    return rows;
  }

  const escalations = async (number: number) =>
    (await bot.runtime.services.repos.timeline.listOfKind(number, 'escalated')).map((e) => e.data.level);

  const members = (channelId: string) => [...(bot.sim.workspace.channels.get(channelId)?.members ?? [])];
  const texts = (channelId: string) => bot.sim.messagesIn(channelId).map((m) => m.text);

  /** Moves the virtual clock and runs what came due (after any poll of the loop's own in flight). */
  async function advance(ms: number, on: TestBot = bot): Promise<void> {
    clock.advance(ms);
    await on.runtime.timers.poll();
  }

  it('a P0 nobody acknowledges escalates at exactly the configured delays and pages once', async () => {
    const incident = await declare(bot, 'P0 API down');
    const channel = incident.channelId ?? '';
    await advance(0);
    expect(await escalations(incident.number)).toEqual([1]);
    // Level 1: the on-call user group's members are invited and the group is mentioned.
    expect(members(channel)).toEqual(expect.arrayContaining(['U_ALICE', 'U_BOB']));
    expect(texts(channel).some((t) => t.includes('<!subteam^S_ONCALL>') && t.includes('level 1 of 3'))).toBe(
      true,
    );
    expect(await pages(incident.number)).toEqual([
      {
        action: 'trigger',
        dedup: `runbook-acme-corp-INC-${incident.number}`,
        idempotency_key: `runbook-acme-corp-INC-${incident.number}:trigger:L1:${ONCALL}:r0`,
        routing_key_ref: '${env:PD_ONCALL_KEY}',
      },
    ]);

    await advance(30 * MINUTE - 1_000);
    expect(await escalations(incident.number)).toEqual([1]);
    expect(members(channel)).not.toContain('U_CAROL');
    await advance(1_000);
    expect(await escalations(incident.number)).toEqual([1, 2]);
    expect(members(channel)).toContain('U_CAROL');
    expect(texts(channel).some((t) => t.includes('<@U_CAROL>') && t.includes('not acknowledged 30m'))).toBe(
      true,
    );

    await advance(30 * MINUTE - 1_000);
    expect(await escalations(incident.number)).toEqual([1, 2]);
    await advance(1_000);
    expect(await escalations(incident.number)).toEqual([1, 2, 3]);
    expect(members(channel)).toContain('U_DAN');
    // Level 3's action: posted in #incidents too.
    expect(texts('C_INCIDENTS').some((t) => t.includes('Declare an outage and notify customers'))).toBe(true);
    expect((await get(incident.number)).escalationLevel).toBe(3);

    // Only the first level pages: one trigger in all.
    await advance(3 * 60 * MINUTE);
    expect((await pages(incident.number)).map((p) => p.action)).toEqual(['trigger']);
    expect(await escalations(incident.number)).toEqual([1, 2, 3]);
    // The headline shows the level reached and the Acknowledge button.
    await eventually(() => {
      const headline = bot.sim.workspace.findMessage(channel, incident.headline?.ts ?? '');
      const json = JSON.stringify(headline?.blocks);
      expect(json).toContain('level 3/3');
      expect(json).toContain('incident_acknowledge');
    });
  });

  it('acknowledging stops the ladder and acknowledges in PagerDuty', async () => {
    const incident = await declare(bot, 'P0 Payments down');
    const channel = incident.channelId ?? '';
    await advance(0);
    clock.advance(10 * MINUTE);
    await bot.slack.clickButton({
      message: { channelId: channel, ts: incident.headline?.ts ?? '' },
      actionId: 'incident_acknowledge',
      userId: 'U_BOB',
    });
    const acknowledged = await eventually(async () => {
      const found = await get(incident.number);
      if (!found.acknowledgedAt) throw new Error('not acknowledged yet');
      return found;
    });
    expect(acknowledged).toMatchObject({ acknowledgedBy: 'U_BOB', escalationLevel: 1 });
    expect(acknowledged.acknowledgedAt?.toISOString()).toBe(clock.now().toISOString());
    const [event] = await bot.runtime.services.repos.timeline.listOfKind(incident.number, 'acknowledged');
    expect(event?.data).toMatchObject({ timeToAcknowledgeMs: 10 * MINUTE });
    await eventually(() =>
      expect(texts(channel).some((t) => t.includes('<@U_BOB> acknowledged') && t.includes('10m'))).toBe(true),
    );
    const timers = await bot.runtime.services.repos.timers.list({ subject: `incident:${incident.number}` });
    expect(timers.filter((t) => t.kind === 'incident.escalate')).toEqual([]);

    await advance(3 * 60 * MINUTE);
    expect(await escalations(incident.number)).toEqual([1]);
    expect(members(channel)).not.toContain('U_CAROL');
    expect((await pages(incident.number)).map((p) => [p.action, p.idempotency_key])).toEqual([
      ['trigger', `runbook-acme-corp-INC-${incident.number}:trigger:L1:${ONCALL}:r0`],
      ['acknowledge', `runbook-acme-corp-INC-${incident.number}:acknowledge:${ONCALL}:r0`],
    ]);
    // No Acknowledge button any more; a second click is told who acknowledged.
    await eventually(() => {
      const headline = bot.sim.workspace.findMessage(channel, incident.headline?.ts ?? '');
      expect(JSON.stringify(headline?.blocks)).not.toContain('incident_acknowledge');
    });
  });

  it('resolving cancels every timer of the incident and resolves in PagerDuty; reopening pages again', async () => {
    const incident = await declare(bot, 'P0 Login broken');
    const channel = incident.channelId ?? '';
    await advance(0);
    clock.advance(1_000);
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: channel, ts: incident.headline?.ts ?? '' },
      actionId: 'incident_resolve',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: { resolution: { resolution: 'Restarted the auth service' } },
    });
    await eventually(async () => expect((await get(incident.number)).status).toBe('resolved'));
    const left = await bot.runtime.services.repos.timers.list({ subject: `incident:${incident.number}` });
    expect(left.map((t) => t.kind)).toEqual(['incident.archive']);
    expect((await pages(incident.number)).map((p) => p.action)).toEqual(['trigger', 'resolve']);
    await advance(2 * 60 * MINUTE);
    expect(await escalations(incident.number)).toEqual([1]);

    expect(await command(bot, `reopen INC-${incident.number}`)).toContain('reopened');
    expect(
      (await pages(incident.number)).map((p) => p.idempotency_key.split(':').slice(1).join(':')),
    ).toEqual([`trigger:L1:${ONCALL}:r0`, `resolve:${ONCALL}:r0`, `trigger:L1:${ONCALL}:r1`]);
    expect((await get(incident.number)).acknowledgedAt).toBeNull();
    // The ladder goes on from the reopen: level 2 30 minutes later.
    await advance(30 * MINUTE);
    expect(await escalations(incident.number)).toEqual([1, 2]);
  });

  it('/incident escalate reaches the next level, or the one named, by hand', async () => {
    // P1 has no ladder of its own: escalation.levels, one response time (30m) apart.
    const incident = await declare(bot, 'P1 Checkout slow');
    const channel = incident.channelId ?? '';
    await advance(0);
    expect(await escalations(incident.number)).toEqual([1]);
    expect(members(channel)).toContain('U_BOB');

    const answer = await command(bot, 'escalate CTO database <still> down', 'U_ALICE', channel);
    expect(answer).toContain('escalated to level 3 of 3: CTO');
    expect(await escalations(incident.number)).toEqual([1, 3]);
    expect(members(channel)).toContain('U_DAN');
    expect(
      texts(channel).some((t) => t.includes('<@U_DAN>') && t.includes('database &lt;still&gt; down')),
    ).toBe(true);
    const [, byHand] = await bot.runtime.services.repos.timeline.listOfKind(incident.number, 'escalated');
    expect(byHand).toMatchObject({ actor: 'U_ALICE', data: { level: 3, reason: 'database <still> down' } });

    expect(await command(bot, 'escalate', 'U_ALICE', channel)).toContain('top of its ladder');
    expect(await command(bot, 'escalate 7 now', 'U_ALICE', channel)).toContain('no level 7');
    // Level 2's timer finds the incident past it, and does nothing.
    await advance(30 * MINUTE);
    expect(await escalations(incident.number)).toEqual([1, 3]);
    // P1 levels do not page.
    expect(await pages(incident.number)).toEqual([]);
  });

  it('a severity change applies the new ladder from the declaration, above the level reached', async () => {
    // P2: escalation.levels, two hours apart; made P0 after 40 minutes, P0's level 2 (30m) is past.
    const incident = await declare(bot, 'P2 Reports late');
    await advance(0);
    expect(await escalations(incident.number)).toEqual([1]);
    clock.advance(40 * MINUTE);
    expect(await command(bot, `severity INC-${incident.number} P0 all customers affected`)).toContain('P0');
    // At level 1 of the P0 ladder now, whose level 1 pages.
    expect(
      (await pages(incident.number)).map((p) => p.idempotency_key.split(':').slice(1).join(':')),
    ).toEqual([`trigger:L1:${ONCALL}:r0`]);
    await advance(0);
    expect(await escalations(incident.number)).toEqual([1, 2]);
    expect(members(incident.channelId ?? '')).toContain('U_CAROL');
    await advance(20 * MINUTE - 1_000);
    expect(await escalations(incident.number)).toEqual([1, 2]);
    await advance(1_000);
    expect(await escalations(incident.number)).toEqual([1, 2, 3]);
  });

  it('an escalation notice Slack refused is said when its timer is tried again', async () => {
    const incident = await declare(bot, 'P0 Search down');
    const channel = incident.channelId ?? '';
    const notice = (t: string) => t.includes('escalated to level 1 of 3');
    // Every post of the notice to the incident fails once (its channel and its announcement's thread).
    bot.sim.injectFault({
      method: 'chat.postMessage',
      error: 'internal_error',
      times: (incident.channelId ? 1 : 0) + (incident.announcement ? 1 : 0),
      match: (args) => notice(String(args.text ?? '')),
    });
    await advance(0);
    expect(await escalations(incident.number)).toEqual([1]);
    expect(texts(channel).filter(notice)).toEqual([]);
    const [timer] = (
      await bot.runtime.services.repos.timers.list({ subject: `incident:${incident.number}` })
    ).filter((t) => t.id === `incident-escalate:${incident.number}:1`);
    expect(timer?.attempts).toBe(1);

    // The loop tries the timer again after its backoff: recorded before, so said now, once.
    await advance(60_000);
    await eventually(() => expect(texts(channel).filter(notice)).toHaveLength(1));
    expect(await escalations(incident.number)).toEqual([1]);
    expect((await pages(incident.number)).map((p) => p.action)).toEqual(['trigger']);
    const left = await bot.runtime.services.repos.timers.list({ subject: `incident:${incident.number}` });
    expect(left.some((t) => t.id === `incident-escalate:${incident.number}:1`)).toBe(false);
    await advance(60_000);
    expect(texts(channel).filter(notice)).toHaveLength(1);
  });

  it('a level due at once waits for the Slack setup, then goes on without it', async () => {
    // Declared in the domain only: no channel, no headline (a setup still running, or failed).
    const { incident } = await bot.runtime.services.incidents.declare({
      title: 'Setup slow',
      severity: 'P0',
      declaredBy: 'U_ALICE',
    });
    await advance(0);
    expect(await escalations(incident.number)).toEqual([]);
    await advance(14_000);
    expect(await escalations(incident.number)).toEqual([]);
    await advance(1_000);
    expect(await escalations(incident.number)).toEqual([1]);
    expect((await pages(incident.number)).map((p) => p.action)).toEqual(['trigger']);
  });

  it('two replicas fire each timer once, and a restart in between loses nothing', async () => {
    const replica = await startTestBot({ env, clock, replicaOf: bot });
    let restarted: TestBot | undefined;
    try {
      const incident = await declare(replica, 'P0 Queue stuck');
      await Promise.all([bot.runtime.timers.poll(), replica.runtime.timers.poll()]);
      clock.advance(30 * MINUTE);
      await Promise.all([bot.runtime.timers.poll(), replica.runtime.timers.poll()]);
      expect(await escalations(incident.number)).toEqual([1, 2]);
      const channel = incident.channelId ?? '';
      expect(texts(channel).filter((t) => t.includes('level 2 of 3')).length).toBe(1);

      // The replica that scheduled them stops; another starts; the timers are still there.
      await replica.stop();
      clock.advance(30 * MINUTE);
      restarted = await startTestBot({ env, clock, replicaOf: bot });
      await Promise.all([bot.runtime.timers.poll(), restarted.runtime.timers.poll()]);
      expect(await escalations(incident.number)).toEqual([1, 2, 3]);
      expect(texts(channel).filter((t) => t.includes('level 3 of 3')).length).toBe(1);
      expect((await pages(incident.number)).map((p) => p.action)).toEqual(['trigger']);
    } finally {
      await replica.stop().catch(() => undefined);
      await restarted?.stop();
    }
  });
});
