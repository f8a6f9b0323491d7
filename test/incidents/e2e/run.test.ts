import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../../src/incidents/incident.ts';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

describe('running an incident: update, severity, roles, status, list, resolve, reopen', () => {
  let bot: IncidentBot;
  let incident: Incident;
  beforeAll(async () => {
    bot = await startIncidentBot('incidents:\n  archiveAfter: 1h\n');
    const answer = await bot.command('declare P1 Checkout returns 500s');
    const found = await bot.runtime.services.repos.incidents.get(Number(/INC-(\d+)/.exec(answer)?.[1]));
    if (!found?.channelId) throw new Error(`not declared: ${answer}`);
    incident = found;
  });
  afterAll(async () => {
    await bot?.stop();
  });

  const reload = async () => {
    const found = await bot.runtime.services.repos.incidents.get(incident.number);
    if (!found) throw new Error('incident vanished');
    return found;
  };
  const channel = () => incident.channelId ?? '';
  const thread = () =>
    bot.sim.thread(incident.announcement?.channelId ?? '', incident.announcement?.ts ?? '');
  const headline = () => bot.sim.messagesIn(channel()).find((m) => m.ts === incident.headline?.ts);

  it('says clearly when a command needs an incident and is used outside one', async () => {
    const answer = await bot.command('update', { channelId: 'C_GENERAL' });
    expect(answer).toContain('works inside an incident');
  });

  it('`/incident update` in the channel opens the modal; the update goes to the channel and the thread', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: 'update',
      channelId: channel(),
      userId: 'U_ALICE',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    const viewId = String((opened.response.view as { id: string }).id);
    await bot.slack.submitView({
      viewId,
      values: {
        status: { status: 'identified' },
        impact: { impact: '30% of checkouts fail' },
        next_step: { next_step: 'Roll back v2.3' },
        next_update: { next_update: String(30 * 60_000) },
      },
    });
    await eventually(() => {
      const inChannel = bot.sim.messagesIn(channel()).filter((m) => m.text?.includes('*Status:* Identified'));
      expect(inChannel).toHaveLength(1);
      expect(thread().filter((m) => m.text?.includes('*Status:* Identified'))).toHaveLength(1);
      expect(JSON.stringify(headline()?.blocks)).toContain('30% of checkouts fail');
    });
    const update = thread().find((m) => m.text?.includes('*Status:* Identified'));
    for (const field of [
      '*Impact:* 30% of checkouts fail',
      '*Started:*',
      '*Team:* <@U_ALICE> (commander)',
      '*Next update:*',
    ])
      expect(update?.text).toContain(field);
    incident = await reload();
    expect(incident.status).toBe('identified');
    expect(incident.nextUpdateDueAt?.getTime()).toBe((incident.lastUpdateAt?.getTime() ?? 0) + 30 * 60_000);
  });

  it('the Post update button opens the same modal with the current state', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: channel(), ts: incident.headline?.ts },
      actionId: 'incident_post_update',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    expect(JSON.stringify(opened.args.view)).toContain('30% of checkouts fail');
  });

  it('a severity change needs a reason and is announced in the thread', async () => {
    expect(await bot.command(`severity INC-${incident.number} P0`)).toContain('Give a reason');
    const answer = await bot.command(`severity INC-${incident.number} sev0 all payments down`);
    expect(answer).toContain('is now P0');
    await eventually(() => expect(thread().some((m) => m.text?.includes('from *P1* to *P0*'))).toBe(true));
    incident = await reload();
    expect(incident.severity).toBe('P0');
    expect(bot.sim.workspace.channels.get(channel())?.topic?.value).toContain('| P0 |');
  });

  it('`/incident role @user commander` changes the commander; topic and headline follow', async () => {
    const answer = await bot.command('role <@U_BOB|bob> commander', { channelId: channel() });
    expect(answer).toContain('<@U_BOB> is now commander');
    incident = await reload();
    expect(incident.commander).toBe('U_BOB');
    expect(bot.sim.workspace.channels.get(channel())?.topic?.value).toContain('Commander: <@U_BOB>');
    expect(JSON.stringify(headline()?.blocks)).toContain('*Commander*\\n<@U_BOB>');
    await bot.command('role <@U_CAROL> scribe', { channelId: channel() });
    expect(JSON.stringify(headline()?.blocks)).toContain('*Scribe*\\n<@U_CAROL>');
    expect(await bot.command('role <@U_CAROL> janitor', { channelId: channel() })).toContain(
      'Roles: commander',
    );
  });

  it('the Assign role button opens a modal whose submission assigns the role', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: channel(), ts: incident.headline?.ts },
      actionId: 'incident_assign_role',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: { role: { role: 'communications lead' }, user: { user: 'U_DAN' } },
    });
    await eventually(() =>
      expect(JSON.stringify(headline()?.blocks)).toContain('*Communications lead*\\n<@U_DAN>'),
    );
  });

  it('`/incident status` shows the headline; `/incident list` lists open incidents with severity, age and commander', async () => {
    const status = await bot.slack.slashCommand({
      command: '/incident',
      text: 'status',
      channelId: channel(),
    });
    const shown = JSON.stringify(status.json);
    expect(shown).toContain(`INC-${incident.number} · P0 · Checkout returns 500s`);
    expect(shown).toContain('30% of checkouts fail');
    const listed = await bot.command('list');
    expect(listed).toContain(`INC-${incident.number} [P0] Checkout returns 500s`);
    expect(listed).toContain('<@U_BOB>');
    expect(listed).toMatch(/Identified · \d+ seconds?/);
  });

  it('Resolve opens a modal and posts the resolution template; post-mortem for P0; archive scheduled', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: channel(), ts: incident.headline?.ts },
      actionId: 'incident_resolve',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: {
        resolution: { resolution: 'Rolled back to v2.2' },
        root_cause: { root_cause: 'Bad migration' },
      },
    });
    await eventually(() => {
      expect(thread().some((m) => m.text?.includes('RESOLVED'))).toBe(true);
      expect(bot.sim.workspace.channels.get(channel())?.topic?.value).toContain('Resolved');
      // Updates of one message are at most a second apart (rate limiter): the headline may follow.
      expect(JSON.stringify(headline()?.blocks)).toContain('incident_reopen');
    });
    const resolution = thread().find((m) => m.text?.includes('RESOLVED'));
    expect(resolution?.text).toContain('*Resolution:* Rolled back to v2.2');
    expect(resolution?.text).toContain('*Root Cause:* Bad migration');
    expect(resolution?.text).toContain('*Duration:*');
    expect(resolution?.text).toContain('within 48 hours');
    incident = await reload();
    expect(incident.status).toBe('resolved');
    expect(bot.sim.workspace.channels.get(channel())?.topic?.value).toContain('Resolved');
    expect(JSON.stringify(headline()?.blocks)).toContain('incident_reopen');
    const kinds = (await bot.runtime.services.repos.timeline.list(incident.number)).map((e) => e.kind);
    expect(kinds).toEqual([
      'declared',
      'status_update',
      'severity_change',
      'role_change',
      'role_change',
      'role_change',
      'resolved',
    ]);
  });

  it('`/incident reopen` brings it back to investigating', async () => {
    const answer = await bot.command(`reopen INC-${incident.number}`);
    expect(answer).toContain('reopened');
    incident = await reload();
    expect(incident.status).toBe('investigating');
    expect(incident.resolvedAt).toBeNull();
  });
});
