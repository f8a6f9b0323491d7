/**
 * Post-mortems and follow-ups end to end, in virtual time, through signed Slack requests: a P1's
 * resolve drafts and uploads the post-mortem (every section, the real timeline, people by name),
 * `/incident postmortem` drafts by hand, the 48 h reminder fires at 48 h and not when marked
 * complete, follow-ups are added, listed and done (bad input answered, escaped), and a due one
 * reminds its owner once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import type { Incident } from '../../../src/incidents/incident.ts';
import type { SimMessage } from '../../../src/local/slack/workspace.ts';
import { POSTMORTEM_COMPLETE_ACTION } from '../../../src/slack/incidents/postmortem.ts';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

const HOUR = 3_600_000;

describe('post-mortems and follow-ups', () => {
  let bot: IncidentBot;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  beforeAll(async () => {
    bot = await startIncidentBot('organisation: Test\n', {}, { clock });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  async function declare(text: string): Promise<Incident & { channelId: string }> {
    const answer = await bot.command(`declare ${text}`);
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    if (!incident?.channelId || !incident.headline) throw new Error(`not declared: ${answer}`);
    return { ...incident, channelId: incident.channelId };
  }

  async function resolve(incident: Incident & { channelId: string }, rootCause?: string): Promise<void> {
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: incident.channelId, ts: incident.headline?.ts ?? '' },
      actionId: 'incident_resolve',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: {
        resolution: { resolution: 'Rolled back barq-api to v1.2.0' },
        ...(rootCause ? { root_cause: { root_cause: rootCause } } : {}),
      },
    });
    await eventually(async () =>
      expect((await bot.runtime.services.repos.incidents.get(incident.number))?.status).toBe('resolved'),
    );
  }

  const postmortemFile = (number: number) =>
    bot.sim.files.find((f) => f.name === `inc-${number}-postmortem.md`);
  const summaryOf = (channelId: string): SimMessage | undefined =>
    bot.sim.messagesIn(channelId).find((m) => m.text.includes('Post-mortem draft for'));
  const remindersIn = (channelId: string) =>
    bot.sim.messagesIn(channelId).filter((m) => m.text.includes('post-mortem was due'));

  /** Waits until the draft is recorded (after it was posted and uploaded). */
  const drafted = (number: number) =>
    eventually(async () => {
      const events = await bot.runtime.services.repos.timeline.list(number);
      expect(events.filter((e) => e.kind === 'postmortem').map((e) => e.text)).toEqual([
        'Post-mortem drafted',
      ]);
    });

  it('resolving a P1 drafts the post-mortem from its record, uploads it, and reminds at 48 h, not before', async () => {
    const incident = await declare('P1 Checkout returns 500s');
    const n = incident.number;
    const where = { channelId: incident.channelId };
    await bot.command('role <@U_BOB> commander', where);
    await bot.command('note <@U_BOB> is looking at the <database> & cache', where);
    await bot.command('followup add <@U_CAROL> Alert on the 5xx rate | page on-call due 2026-03-06', where);
    clock.advance(30 * 60_000);
    await resolve(incident, 'A bad release of barq-api');
    const resolvedAt = clock.now();

    // The draft: a summary with "Mark complete", and the Markdown file, both in the channel.
    await drafted(n);
    const file = await eventually(() => {
      const f = postmortemFile(n);
      if (!f?.content) throw new Error('no post-mortem file yet');
      return f;
    });
    expect(file.shares.map((s) => s.channel)).toEqual([incident.channelId]);
    const summary = summaryOf(incident.channelId);
    expect(JSON.stringify(summary?.blocks)).toContain(POSTMORTEM_COMPLETE_ACTION);
    const md = bot.sim.fileText(file.id) ?? '';
    for (const heading of [
      `# Post-mortem: INC-${n}: Checkout returns 500s`,
      '## Summary',
      '## Impact',
      '## Timeline (UTC)',
      '## Root cause',
      '## Resolution',
      '## What went well',
      '## What went badly',
      '## Action items',
      '## Lessons learned',
    ]) {
      expect(md).toContain(heading);
    }
    expect(md).not.toMatch(/\{\{/);
    expect(md).toContain('| **Severity** | P1');
    expect(md).toContain('| **Commander** | @bob |');
    expect(md).toContain('| **Duration** | 30m |');
    expect(md).toContain('A bad release of barq-api');
    expect(md).toContain('Rolled back barq-api to v1.2.0');
    // The real timeline, people by display name, user text escaped.
    expect(md).toContain('| 2026-03-02T09:00:00Z | @alice | Declared |');
    expect(md).toContain('@bob is looking at the \\<database\\> & cache');
    expect(md).toContain('| Resolved | Resolved: Rolled back barq-api to v1.2.0');
    expect(md).not.toContain('U_BOB');
    // The action item with its owner and due date.
    expect(md).toContain('| 1 | Alert on the 5xx rate \\| page on-call | @carol | 2026-03-06 | open |');
    await drafted(n);

    // The reminder: a durable timer 48 h after the resolution, that resolving did not cancel.
    const timers = await bot.runtime.services.repos.timers.list({ subject: `postmortem:${n}` });
    expect(timers.map((t) => t.dueAt.getTime())).toEqual([resolvedAt.getTime() + 48 * HOUR]);
    clock.advance(48 * HOUR - 60_000);
    await bot.runtime.timers.poll();
    expect(remindersIn(incident.channelId)).toEqual([]);
    clock.advance(60_000);
    await bot.runtime.timers.poll();
    const reminders = remindersIn(incident.channelId);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]?.text).toContain('<@U_BOB>');
    clock.advance(48 * HOUR);
    await bot.runtime.timers.poll();
    expect(remindersIn(incident.channelId)).toHaveLength(1);
    const reminded = await bot.runtime.services.repos.timeline.list(n);
    const kinds = reminded.filter((e) => e.kind === 'reminder').map((e) => e.data.event);
    // The post-mortem's, once; and (96 h on, past 2026-03-06 09:00) the follow-up's, to carol.
    expect(kinds).toEqual(['postmortem_reminder', 'followup_reminder']);
  });

  it('"Mark complete" cancels the reminder: none fires at 48 h', async () => {
    const incident = await declare('P0 Everything is down');
    await resolve(incident);
    await drafted(incident.number);
    const summary = summaryOf(incident.channelId);
    await bot.slack.clickButton({
      message: { channelId: incident.channelId, ts: summary?.ts ?? '' },
      actionId: POSTMORTEM_COMPLETE_ACTION,
      userId: 'U_CAROL',
    });
    await eventually(async () =>
      expect((await bot.runtime.services.postmortems.find(incident.number))?.status).toBe('complete'),
    );
    await eventually(() => {
      const updated = summaryOf(incident.channelId);
      expect(JSON.stringify(updated?.blocks)).not.toContain(POSTMORTEM_COMPLETE_ACTION);
      expect(JSON.stringify(updated?.blocks)).toContain('Marked complete by <@U_CAROL>');
    });
    expect(
      await bot.runtime.services.repos.timers.list({ subject: `postmortem:${incident.number}` }),
    ).toEqual([]);
    clock.advance(49 * HOUR);
    await bot.runtime.timers.poll();
    expect(remindersIn(incident.channelId)).toEqual([]);
    const events = await bot.runtime.services.repos.timeline.list(incident.number);
    expect(events.filter((e) => e.kind === 'postmortem').map((e) => e.text)).toEqual([
      'Post-mortem drafted',
      'Post-mortem marked complete',
    ]);
  });

  it('`/incident postmortem` drafts by hand (a P2 needs none), and refuses while the incident is open', async () => {
    const incident = await declare('P2 Search is slow');
    const where = { channelId: incident.channelId };
    const refused = await bot.command('postmortem', where);
    expect(refused).toContain('is still investigating');
    expect(refused).toContain('/incident resolve');
    await resolve(incident);
    expect(postmortemFile(incident.number)).toBeUndefined();
    expect(await bot.runtime.services.postmortems.find(incident.number)).toBeNull();

    // A /deploy operation run for the incident is on the post-mortem (from the operations table).
    const { operation } = await bot.runtime.services.repos.operations.create({
      kind: 'rollback',
      service: 'search-api',
      environment: 'production',
      requestedBy: 'U_DAN',
      idempotencyKey: `pm-test-${incident.number}`,
      incidentNumber: incident.number,
      reason: `INC-${incident.number}: Search is slow`,
    });
    await bot.runtime.services.repos.operations.transition(operation.id, ['requested'], 'running');
    await bot.runtime.services.repos.operations.transition(operation.id, ['running'], 'succeeded', {
      finishedAt: clock.now(),
    });
    const answer = await bot.command(`postmortem INC-${incident.number}`, { channelId: 'C_GENERAL' });
    expect(answer).toContain(`Drafted INC-${incident.number}'s post-mortem in <#${incident.channelId}>`);
    expect(answer).toContain('with the Markdown file');
    const file = postmortemFile(incident.number);
    const md = bot.sim.fileText(file?.id ?? '') ?? '';
    expect(md).toContain('## Lessons learned');
    expect(md).toMatch(
      /- \S+Z \*\*rollback\*\* search-api \(production\), succeeded, asked by @dan: INC-\d+: Search is slow/,
    );
    expect(md).toContain('- rollback of search-api (production) succeeded, asked by @dan');
    const timers = await bot.runtime.services.repos.timers.list({ subject: `postmortem:${incident.number}` });
    expect(timers.map((t) => t.dueAt.getTime())).toEqual([clock.now().getTime() + 48 * HOUR]);
    expect(await bot.command('postmortem now please', where)).toContain('takes only the incident');
  });

  it('follow-ups: add, list and done, bad input answered (escaped); a due one reminds its owner once', async () => {
    const incident = await declare('P1 Payments time out');
    const where = { channelId: incident.channelId };
    const n = incident.number;

    expect(await bot.command('followup add bob <!channel> fix it', where)).toContain('`bob` is not a person');
    expect(await bot.command('followup add <@U_BOB>', where)).toContain('needs a description');
    expect(await bot.command('followup add <@U_BOB> fix it due 2026-02-30', where)).toContain(
      '`2026-02-30` is not a due date',
    );
    expect(await bot.command('followup add <@U_BOB> fix it due 2020-01-01', where)).toContain('in the past');
    const badDone = await bot.command('followup done <b>x</b>', where);
    expect(badDone).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(badDone).not.toContain('<b>');
    const unknown = await bot.command('followup frobnicate <!channel>', where);
    expect(unknown).toContain('is not a follow-up command');
    expect(unknown).toContain('&lt;!channel&gt;');
    expect(unknown).not.toContain('<!channel>');

    const added = await bot.command(
      'followup add <@U_BOB> Add a timeout to the payments client due tomorrow',
      where,
    );
    expect(added).toContain(`Follow-up #1 of INC-${n} for <@U_BOB>`);
    expect(await bot.command('followup add <@U_DAN> Write the <runbook> entry', where)).toContain(
      'Follow-up #2',
    );
    const list = await bot.command('followup list', where);
    expect(list).toContain('*#1* <@U_BOB>: Add a timeout to the payments client');
    expect(list).toContain('*#2* <@U_DAN>: Write the &lt;runbook&gt; entry');
    expect(list).toContain('(2 open of 2)');

    expect(await bot.command('followup done 2', where)).toContain('is done');
    expect(await bot.command('followup done 2', where)).toContain('was done already');
    expect(await bot.command('followup done 9', where)).toContain('has no follow-up #9');
    expect(await bot.command(`followup INC-${n} list`, { channelId: 'C_GENERAL' })).toContain(
      '(1 open of 2)',
    );

    // #1 is due tomorrow at 09:00 UTC: its owner is reminded then, once.
    const [first] = await bot.runtime.services.postmortems.followups(n);
    const dueAt = first?.dueAt;
    if (!dueAt) throw new Error('no due time');
    expect(dueAt.toISOString()).toBe(
      `${new Date(clock.now().getTime() + 24 * HOUR).toISOString().slice(0, 10)}T09:00:00.000Z`,
    );
    const dms = () =>
      bot.sim.workspace.messages.filter(
        (m) => m.channel.startsWith('D') && m.text.includes(`Follow-up #1 of INC-${n}`),
      );
    clock.set(new Date(dueAt.getTime() - 60_000));
    await bot.runtime.timers.poll();
    expect(dms()).toEqual([]);
    clock.set(dueAt);
    await bot.runtime.timers.poll();
    expect(dms()).toHaveLength(1);
    expect(dms()[0]?.text).toContain(`/incident followup INC-${n} done 1`);
    clock.advance(24 * HOUR);
    await bot.runtime.timers.poll();
    expect(dms()).toHaveLength(1);
    // Done follow-ups cancel their reminders.
    const done = (await bot.runtime.services.postmortems.followups(n))[1];
    expect(await bot.runtime.services.repos.timers.list({ subject: `followup:${done?.id}` })).toEqual([]);
  });

  it('reminds the commander directly when the incident channel is archived by then', async () => {
    const incident = await declare('P1 Orders stuck');
    await resolve(incident);
    await drafted(incident.number);
    const channel = bot.sim.workspace.channels.get(incident.channelId);
    if (!channel) throw new Error('no channel');
    channel.isArchived = true;
    clock.advance(48 * HOUR);
    await bot.runtime.timers.poll();
    const direct = bot.sim.workspace.messages.filter(
      (m) => m.channel.startsWith('D') && m.text.includes(`INC-${incident.number}'s post-mortem was due`),
    );
    expect(direct).toHaveLength(1);
    expect(direct[0]?.text).toContain('<@U_ALICE>');
    expect(
      await bot.runtime.services.repos.timers.list({ subject: `postmortem:${incident.number}` }),
    ).toEqual([]);
  });

  it('the timeline shows people by display name (users.info, cached), not ids', async () => {
    const incident = await declare('P3 Typo on the status page');
    const where = { channelId: incident.channelId };
    await bot.command('note handed over to <@U_DAN>', { ...where, userId: 'U_CAROL' });
    const page = async () => {
      const since = bot.sim.responses.length;
      await bot.slack.slashCommand({ command: '/incident', text: 'timeline', userId: 'U_ALICE', ...where });
      return JSON.stringify((await bot.sim.waitForResponse({ since })).body.blocks);
    };
    const shown = await page();
    expect(shown).toContain('*carol*');
    expect(shown).toContain('handed over to @dan');
    expect(shown).not.toContain('U_CAROL');
    expect(shown).not.toContain('U_DAN');
    const lookups = bot.sim.callsTo('users.info').length;
    await page();
    expect(bot.sim.callsTo('users.info').length).toBe(lookups);
  });
});

describe('post-mortems of lightweight incidents, and after a reopen', () => {
  let bot: IncidentBot;
  const clock = new ManualClock('2026-04-06T10:00:00Z');
  beforeAll(async () => {
    bot = await startIncidentBot('incidents:\n  createChannel: false\n  postmortemDue: 3d\n', {}, { clock });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('posts and uploads in the #incidents thread; a re-resolve after a reopen is due again, reminded once', async () => {
    const answer = await bot.command('declare P1 Login fails');
    const n = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(n);
    const thread = incident?.announcement;
    if (!thread) throw new Error(`no announcement: ${answer}`);
    const { incidents } = bot.runtime.services;
    // Resolved through the Slack flow (as the modal does), in the thread.
    const resolveOnce = async () => {
      const since = bot.sim.calls.length;
      await bot.slack.slashCommand({ command: '/incident', text: `resolve INC-${n}`, userId: 'U_ALICE' });
      const opened = await bot.sim.waitForCall('views.open', { since });
      await bot.slack.submitView({
        viewId: String((opened.response.view as { id: string }).id),
        values: { resolution: { resolution: 'Restarted auth' } },
      });
    };
    await resolveOnce();
    const file = await eventually(() => {
      const f = bot.sim.files.find((x) => x.name === `inc-${n}-postmortem.md` && x.shares.length > 0);
      if (!f) throw new Error('no file yet');
      return f;
    });
    expect(file.shares).toEqual([
      expect.objectContaining({ channel: thread.channelId, threadTs: thread.ts }),
    ]);
    const summary = await eventually(() => {
      const m = bot.sim
        .thread(thread.channelId, thread.ts)
        .find((x) => x.text.includes('Post-mortem draft for'));
      if (!m) throw new Error('no summary yet');
      return m;
    });
    expect(JSON.stringify(summary.blocks)).toContain('Mark complete');
    // The resolution message names the configured due time.
    expect(bot.sim.thread(thread.channelId, thread.ts).some((m) => m.text.includes('within 3d'))).toBe(true);

    await eventually(async () => expect((await bot.runtime.services.postmortems.find(n))?.drafts).toBe(1));
    await incidents.reopen(n, { actor: 'U_ALICE' });
    clock.advance(2 * 3_600_000);
    await resolveOnce();
    await eventually(async () => expect((await bot.runtime.services.postmortems.find(n))?.drafts).toBe(2));
    const resolvedAt = (await incidents.get(n)).resolvedAt?.getTime() ?? 0;
    const timers = await bot.runtime.services.repos.timers.list({ subject: `postmortem:${n}` });
    expect(timers.map((t) => t.dueAt.getTime())).toEqual([resolvedAt + 3 * 86_400_000]);
    clock.set(new Date(resolvedAt + 3 * 86_400_000));
    await bot.runtime.timers.poll();
    const reminders = bot.sim
      .thread(thread.channelId, thread.ts)
      .filter((m) => m.text.includes('post-mortem was due'));
    expect(reminders).toHaveLength(1);
  });
});
