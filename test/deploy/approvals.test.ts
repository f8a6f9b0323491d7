import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { DEPLOY_START_TIMER, startTimerId } from '../../src/deploy/deploy-service.ts';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import {
  APPROVE_DEPLOY_ACTION,
  CANCEL_DEPLOY_ACTION,
  CONFIRM_DEPLOY_ACTION,
  EMERGENCY_DEPLOY_ACTION,
  REJECT_DEPLOY_ACTION,
} from '../../src/slack/deploy/blocks/card.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';
import { type KubeSetup, patchCount, startKubeSetup } from './helpers.ts';

/**
 * Change control end to end, in virtual time: signed Slack requests against the bot, the Slack
 * simulator (a user group S_LEADS read with usergroups.users.list) and the Kubernetes fake.
 * Approvers: tech-lead = U_BOB and the user group S_LEADS (U_CAROL); pm = U_CAROL; cto = U_DAN.
 * The BARQ windows (Mon–Thu 10:00–14:00, Fri 10:00–12:00) in Asia/Riyadh (UTC+3).
 */
describe('approvals, deploy windows, freezes and the emergency path', () => {
  let kube: KubeSetup;
  let bot: TestBot;
  let replica: TestBot;
  const clock = new ManualClock('2026-01-08T08:00:00Z'); // Thursday 11:00 in Riyadh

  beforeAll(async () => {
    kube = await startKubeSetup(
      [
        'approvers: { tech-lead: [U_BOB, S_LEADS], pm: [U_CAROL], cto: [U_DAN] }',
        'approvals:',
        '  production: { required: 2, fromGroups: [tech-lead, pm], expireAfter: 1h, duringIncident: { required: 1, fromGroups: [tech-lead] } }',
        'deploy: { timeZone: Asia/Riyadh, holidays: ["2026-01-13"], verifyTimeout: 5s, settleTimeout: { kubernetes: 20s } }',
      ],
      { changeControl: true },
    );
    bot = await startTestBot({
      clock,
      env: { RUNBOOK_CONFIG: kube.configPath },
      simulator: { usergroups: [{ id: 'S_LEADS', handle: 'leads', name: 'Leads', users: ['U_CAROL'] }] },
    });
    replica = await startTestBot({ replicaOf: bot, clock, env: { RUNBOOK_CONFIG: kube.configPath } });
  });

  afterAll(async () => {
    await replica?.stop();
    await bot?.stop();
    await kube?.close();
  });

  const current = (m: SimMessage) => bot.sim.messagesIn(m.channel).find((x) => x.ts === m.ts) ?? m;
  const body = (m: SimMessage) => JSON.stringify(current(m).blocks ?? []);
  const cardWith = (m: SimMessage, text: string) =>
    until(`the card to show "${text}"`, () => (body(m).includes(text) ? current(m) : undefined));

  async function command(text: string, userId = 'U_ALICE', channelId = 'C_GENERAL'): Promise<string> {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({
      command: text.startsWith('/') ? text.split(' ')[0]! : '/deploy',
      text: text.startsWith('/') ? text.split(' ').slice(1).join(' ') : text,
      userId,
      channelId,
    });
    const inAck = (res.json as { text?: unknown } | undefined)?.text;
    if (typeof inAck === 'string') return inAck;
    const reply = await bot.sim.waitForResponse({ since });
    return String((reply.body as { text?: string }).text);
  }

  /** `/deploy restart barq-api` by Alice: the card. */
  async function request(extra = '', channelId = 'C_GENERAL'): Promise<SimMessage> {
    const since = bot.sim.messagesIn(channelId).length;
    await command(`restart barq-api ${extra}`.trim(), 'U_ALICE', channelId);
    return until('the card', () =>
      bot.sim
        .messagesIn(channelId)
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CANCEL_DEPLOY_ACTION)),
    );
  }

  async function click(card: SimMessage, actionId: string, userId: string): Promise<string | undefined> {
    const since = bot.sim.responses.length;
    await bot.slack.clickButton({ message: card, actionId, userId });
    const reply = await until('an answer', () => bot.sim.responses.slice(since)[0], 2_000).catch(
      () => undefined,
    );
    return reply ? String((reply.body as { text?: string }).text) : undefined;
  }

  async function cancel(card: SimMessage) {
    await click(card, CANCEL_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'nothing was changed');
  }

  async function submitReason(callbackId: string, userId: string, reason: string) {
    const since = bot.sim.calls.length;
    return bot.slack.submitView({ callbackId, userId, values: { reason: { reason } } }).then(async (r) => {
      if (reason) await bot.sim.waitForCall('chat.update', { since }).catch(() => undefined);
      return r;
    });
  }

  const finished = (card: SimMessage) =>
    until(
      'the final line',
      () => {
        const m = current(card);
        return m.text.includes('verified healthy') || m.text.includes('could not') ? m : undefined;
      },
      25_000,
    );

  it('windows at their edges in UTC+3: Thursday 13:59 vs 14:00, Friday 11:59 vs 12:00, Saturday, a holiday', async () => {
    const cases: { at: string; open: boolean; says?: string }[] = [
      { at: '2026-01-08T10:59:00Z', open: true }, // Thu 13:59
      { at: '2026-01-08T11:00:00Z', open: false, says: 'Outside the production deploy window' }, // Thu 14:00
      { at: '2026-01-09T08:59:00Z', open: true }, // Fri 11:59
      { at: '2026-01-09T09:00:00Z', open: false, says: 'Outside the production deploy window' }, // Fri 12:00
      { at: '2026-01-10T08:00:00Z', open: false, says: 'Outside the production deploy window' }, // Sat 11:00
      { at: '2026-01-13T08:00:00Z', open: false, says: '2026-01-13 is a holiday' }, // Tue 11:00, a holiday
    ];
    for (const c of cases) {
      clock.set(c.at);
      const card = await request();
      const blocks = body(card);
      expect(blocks.includes(CONFIRM_DEPLOY_ACTION), c.at).toBe(c.open);
      expect(blocks.includes(EMERGENCY_DEPLOY_ACTION), c.at).toBe(!c.open);
      if (c.says) {
        expect(blocks).toContain(c.says);
        expect(blocks).toContain('the next window opens');
      }
      await cancel(card);
    }
    // Saturday: the next window is Monday 10:00 in Riyadh (07:00 UTC).
    clock.set('2026-01-10T08:00:00Z');
    const card = await request();
    expect(body(card)).toContain(`<!date^${Date.parse('2026-01-12T07:00:00Z') / 1000}^`);
    await cancel(card);
  });

  it('needs one approver from each group: not the requester, not another group, one person in both groups counts once; the last approval runs it', async () => {
    clock.set('2026-01-08T08:00:00Z'); // Thursday 11:00
    const card = await request();
    const deployments = bot.sim.messagesIn('C_DEPLOYMENTS').length;
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'awaiting approval');
    expect(body(card)).toContain('Approvals:* 0 of 2 (one from each of tech-lead, pm)');
    expect(body(card)).toContain('Still needed:* tech-lead (<@U_BOB>, <!subteam^S_LEADS>), pm (<@U_CAROL>)');
    const ask = await until('the approvers mentioned in #deployments', () =>
      bot.sim
        .messagesIn('C_DEPLOYMENTS')
        .slice(deployments)
        .find((m) => m.text.includes('needs approval')),
    );
    expect(ask.text).toContain('<@U_BOB>');
    expect(ask.text).toContain('<!subteam^S_LEADS>');
    expect(ask.text).toContain(`https://slack.com/archives/${card.channel}/p${card.ts?.replace('.', '')}`);

    const before = patchCount(kube.fake);
    expect(await click(card, APPROVE_DEPLOY_ACTION, 'U_ALICE')).toContain('someone else must approve');
    expect(await click(card, APPROVE_DEPLOY_ACTION, 'U_DAN')).toContain(
      'Only approvers from `tech-lead`, `pm`',
    );
    expect(await click(card, REJECT_DEPLOY_ACTION, 'U_DAN')).toContain('Only approvers from');
    expect(body(card)).toContain('0 of 2');
    // What Bob's Slack shows now: a card with Approve, which he clicks only after it moved on (below).
    const stale = await bot.slack.clickButton({
      message: card,
      actionId: APPROVE_DEPLOY_ACTION,
      userId: 'U_ALICE',
    });

    // Carol is in both groups (pm, and tech-lead through S_LEADS): one approval, one group.
    await click(card, APPROVE_DEPLOY_ACTION, 'U_CAROL');
    await cardWith(card, 'Approvals:* 1 of 2');
    expect(body(card)).toContain('Approved by:* <@U_CAROL> (tech-lead, pm)');
    expect(await click(card, APPROVE_DEPLOY_ACTION, 'U_CAROL')).toContain('already decided');
    expect(patchCount(kube.fake)).toBe(before);

    // Bob (tech-lead) covers the other group: it runs by itself.
    await click(card, APPROVE_DEPLOY_ACTION, 'U_BOB');
    const done = await finished(card);
    expect(done.text).toContain('restarted');
    expect(patchCount(kube.fake) - before).toBe(1);

    // A click after the card moved on says so and changes nothing.
    const replayed = bot.sim.responses.length;
    await bot.slack.sendInteraction({
      ...stale.payload,
      user: { ...(stale.payload.user as object), id: 'U_BOB', username: 'bob', name: 'bob' },
    });
    const late = await until('the answer to the late click', () => bot.sim.responses.slice(replayed)[0]);
    expect(String((late.body as { text?: string }).text)).toContain('has moved on: it is succeeded now');
    const opId = String((stale.payload.actions as { value?: string }[])[0]?.value);
    const audit = await bot.runtime.services.repos.audit.list({ operationId: opId });
    const outcomes = audit.map((r) => `${r.outcome}:${r.actor}`);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        'awaiting_approval:U_ALICE',
        'approved:U_CAROL',
        'approved:U_BOB',
        'started:U_BOB',
      ]),
    );
  });

  it('the last two approvals at the same moment on two replicas: both count, it runs once', async () => {
    clock.set('2026-01-08T08:40:00Z'); // Thursday 11:40
    const card = await request();
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'awaiting approval');
    const before = patchCount(kube.fake);
    await Promise.all([
      bot.slack.clickButton({ message: card, actionId: APPROVE_DEPLOY_ACTION, userId: 'U_CAROL' }),
      replica.slack.clickButton({ message: card, actionId: APPROVE_DEPLOY_ACTION, userId: 'U_BOB' }),
    ]);
    const done = await finished(card);
    expect(done.text).toContain('restarted');
    expect(JSON.stringify(done.blocks)).toContain('Approvals:* 2 of 2');
    expect(patchCount(kube.fake) - before).toBe(1);
  });

  it('a rejection asks for a reason in a modal; nothing runs', async () => {
    clock.set('2026-01-08T08:10:00Z');
    const card = await request();
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'awaiting approval');
    const calls = bot.sim.calls.length;
    await click(card, REJECT_DEPLOY_ACTION, 'U_BOB');
    await bot.sim.waitForCall('views.open', { since: calls });
    const empty = await bot.slack.submitView({
      callbackId: 'deploy_reject',
      userId: 'U_BOB',
      values: { reason: { reason: '  ' } },
      allowEmptyRequired: true,
    });
    expect(JSON.stringify(empty.json)).toContain('a reason is required');
    await submitReason('deploy_reject', 'U_BOB', 'not during the sale');
    const rejected = await cardWith(card, 'Rejected by:* <@U_BOB>: not during the sale');
    expect(rejected.text).toContain('rejected by <@U_BOB>: not during the sale; nothing was changed');
    expect(JSON.stringify(rejected.blocks)).not.toContain(APPROVE_DEPLOY_ACTION);
  });

  it('a request not approved in time expires (1 hour)', async () => {
    clock.set('2026-01-08T08:20:00Z');
    const card = await request();
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'awaiting approval');
    clock.advance(60 * 60_000 + 1_000);
    await until(
      'the expiry sweep',
      () => (current(card).text.includes('not approved in time') ? true : undefined),
      12_000,
    );
    expect(body(card)).not.toContain(APPROVE_DEPLOY_ACTION);
  });

  it('approvals landing after the window closed: it does not start; as an emergency, the CTO approves too and it runs', async () => {
    clock.set('2026-01-08T10:50:00Z'); // Thursday 13:50
    const card = await request();
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'awaiting approval');
    await click(card, APPROVE_DEPLOY_ACTION, 'U_CAROL');
    await cardWith(card, '1 of 2');
    clock.set('2026-01-08T11:05:00Z'); // 14:05: closed
    const before = patchCount(kube.fake);
    await click(card, APPROVE_DEPLOY_ACTION, 'U_BOB');
    const blocked = await cardWith(card, 'Outside the production deploy window');
    expect(JSON.stringify(blocked.blocks)).toContain(EMERGENCY_DEPLOY_ACTION);
    expect(patchCount(kube.fake)).toBe(before);

    // Only the requester asks for an emergency; a reason is required.
    expect(await click(card, EMERGENCY_DEPLOY_ACTION, 'U_BOB')).toContain('Only <@U_ALICE>');
    await click(card, EMERGENCY_DEPLOY_ACTION, 'U_ALICE');
    await submitReason('deploy_emergency', 'U_ALICE', 'payments are failing for every user');
    const waiting = await cardWith(card, 'Still needed:* cto (<@U_DAN>)');
    expect(JSON.stringify(waiting.blocks)).toContain(
      'Emergency* (asked by <@U_ALICE>): payments are failing',
    );
    expect(await click(card, APPROVE_DEPLOY_ACTION, 'U_BOB')).toContain('already decided');
    await click(card, APPROVE_DEPLOY_ACTION, 'U_DAN');
    const done = await finished(card);
    expect(done.text).toContain('restarted');
    expect(patchCount(kube.fake) - before).toBe(1);
  });

  it('outside a window from the start: "Request as emergency" needs a reason, then all three groups', async () => {
    clock.set('2026-01-10T08:00:00Z'); // Saturday
    const card = await request();
    await click(card, EMERGENCY_DEPLOY_ACTION, 'U_ALICE');
    await submitReason('deploy_emergency', 'U_ALICE', 'hotfix for a data leak');
    await cardWith(card, CONFIRM_DEPLOY_ACTION);
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'Approvals:* 0 of 3 (one from each of tech-lead, pm, cto)');
    await cancel(card);
  });

  it('freeze and unfreeze: only emergency requests pass; shown on the card and /deploy status, announced and audited', async () => {
    clock.set('2026-01-08T08:30:00Z'); // Thursday 11:30, inside the window
    const bad = await command('freeze prod oops');
    expect(bad).toContain('There is no environment "prod"');
    const deployments = bot.sim.messagesIn('C_DEPLOYMENTS').length;
    const answer = await command('freeze production until 2026-01-08T18:00 release week');
    expect(answer).toContain('production is frozen* by <@U_ALICE> until');
    await until('the announcement', () =>
      bot.sim
        .messagesIn('C_DEPLOYMENTS')
        .slice(deployments)
        .find((m) => m.text.includes('production is frozen')),
    );
    expect(await command('status barq-api')).toContain('production is frozen');
    const card = await request();
    expect(body(card)).toContain('production is frozen');
    expect(body(card)).not.toContain(CONFIRM_DEPLOY_ACTION);
    expect(body(card)).toContain(EMERGENCY_DEPLOY_ACTION);
    await cancel(card);

    expect(await command('unfreeze production')).toContain('no longer frozen');
    expect(await command('unfreeze production')).toContain('not frozen');
    const open = await request();
    expect(body(open)).toContain(CONFIRM_DEPLOY_ACTION);
    expect(body(open)).not.toContain('is frozen');
    await cancel(open);
    const audit = await bot.runtime.services.repos.audit.list({});
    const freezes = audit.filter((r) => r.action === 'deploy.freeze').map((r) => r.outcome);
    expect(freezes).toEqual(expect.arrayContaining(['frozen', 'unfrozen']));
  });

  it('an operation for an open P1 is exempt from windows and freezes, not from approvals (its duringIncident rule)', async () => {
    clock.set('2026-01-10T08:00:00Z'); // Saturday
    await command('freeze production incident drill');
    const declared = await command('/incident declare P1 Checkout returns 500s', 'U_ALICE', 'C_INCIDENTS');
    const number = Number(/INC-(\d+)/.exec(declared)?.[1]);
    expect(number).toBeGreaterThan(0);
    const card = await request(`INC-${number}`);
    expect(body(card)).toContain(CONFIRM_DEPLOY_ACTION);
    expect(body(card)).toContain('windows and freezes do not apply');
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'Approvals:* 0 of 1 (one from each of tech-lead) · the rule during an incident');
    await click(card, APPROVE_DEPLOY_ACTION, 'U_BOB');
    await finished(card);
    const timeline = await bot.runtime.services.repos.timeline.list(number);
    const texts = timeline.map((e) => e.text).join('\n');
    expect(texts).toContain('awaiting approval');
    expect(texts).toContain('Approved the restart');
    await command('unfreeze production');
  });

  it('approved, but the replica that approved it died before starting it: its deploy.start timer starts it, once', async () => {
    clock.set('2026-01-15T08:00:00Z'); // Thursday 11:00 in Riyadh: inside the window
    const card = await request();
    await click(card, CONFIRM_DEPLOY_ACTION, 'U_ALICE');
    await cardWith(card, 'Approvals:* 0 of 2');
    const opId = String(
      (JSON.parse(JSON.stringify(current(card).blocks)) as { elements?: { value?: string }[] }[])
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.value)?.value,
    );
    // What the last approval's transaction writes, without the start that follows it (the replica died).
    const repos = bot.runtime.services.repos;
    const before = patchCount(kube.fake);
    expect(await repos.operations.transition(opId, ['awaiting_approval'], 'approved')).not.toBeNull();
    await repos.timers.schedule({
      id: startTimerId(opId),
      kind: DEPLOY_START_TIMER,
      subject: `operation:${opId}`,
      payload: { operation: opId, approvedBy: 'U_BOB' },
      dueAt: new Date(clock.now().getTime() + 30_000),
    });
    await bot.runtime.timers.poll();
    expect((await repos.operations.get(opId))?.state).toBe('approved');
    clock.advance(30_000);
    await Promise.all([bot.runtime.timers.poll(), replica.runtime.timers.poll()]);
    const done = await until(
      'the operation to finish',
      async () => {
        const op = await repos.operations.get(opId);
        return op && ['succeeded', 'failed'].includes(op.state) ? op : undefined;
      },
      25_000,
    );
    expect(done.state).toBe('succeeded');
    expect(patchCount(kube.fake) - before).toBe(1);
  });
});
