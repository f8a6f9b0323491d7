import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../../src/incidents/incident.ts';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

/**
 * One bot for the file; every test declares its own incident and brings it to the state it needs,
 * so that each passes alone (`-t`) and in any order.
 */
describe('running an incident: update, severity, roles, status, list, resolve, reopen', () => {
  let bot: IncidentBot;
  beforeAll(async () => {
    bot = await startIncidentBot('incidents:\n  archiveAfter: 1h\n');
  });
  afterAll(async () => {
    await bot?.stop();
  });

  const reload = async (incident: Incident): Promise<Incident> => {
    const found = await bot.runtime.services.repos.incidents.get(incident.number);
    if (!found) throw new Error('incident vanished');
    return found;
  };
  const declare = async (text: string): Promise<Incident> => {
    const answer = await bot.command(`declare ${text}`);
    const found = await bot.runtime.services.repos.incidents.get(Number(/INC-(\d+)/.exec(answer)?.[1]));
    if (!found?.channelId || !found.headline || !found.announcement)
      throw new Error(`not declared: ${answer}`);
    return found;
  };
  const channel = (incident: Incident) => incident.channelId ?? '';
  const thread = (incident: Incident) =>
    bot.sim.thread(incident.announcement?.channelId ?? '', incident.announcement?.ts ?? '');
  const headline = (incident: Incident) =>
    bot.sim.messagesIn(channel(incident)).find((m) => m.ts === incident.headline?.ts);
  const timelineKinds = async (incident: Incident) =>
    (await bot.runtime.services.repos.timeline.list(incident.number)).map((e) => e.kind);
  const buttonModal = async (incident: Incident, actionId: string) => {
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: channel(incident), ts: incident.headline?.ts },
      actionId,
    });
    return bot.sim.waitForCall('views.open', { since });
  };
  const viewId = (opened: { response: Record<string, unknown> }) =>
    String((opened.response.view as { id: string }).id);

  /** `/incident update` in the channel, and the modal submitted: status identified. */
  const postUpdate = async (incident: Incident, impact: string): Promise<Incident> => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: 'update',
      channelId: channel(incident),
      userId: 'U_ALICE',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: viewId(opened),
      values: {
        status: { status: 'identified' },
        impact: { impact },
        next_step: { next_step: 'Roll back v2.3' },
        next_update: { next_update: String(30 * 60_000) },
      },
    });
    await eventually(async () => expect((await reload(incident)).status).toBe('identified'));
    return reload(incident);
  };

  /** The Resolve button, and its modal submitted. */
  const resolve = async (incident: Incident): Promise<Incident> => {
    const opened = await buttonModal(incident, 'incident_resolve');
    await bot.slack.submitView({
      viewId: viewId(opened),
      values: {
        resolution: { resolution: 'Rolled back to v2.2' },
        root_cause: { root_cause: 'Bad migration' },
      },
    });
    await eventually(async () => expect((await reload(incident)).status).toBe('resolved'));
    return reload(incident);
  };

  it('says clearly when a command needs an incident and is used outside one', async () => {
    const answer = await bot.command('update', { channelId: 'C_GENERAL' });
    expect(answer).toContain('works inside an incident');
  });

  it('`/incident update` in the channel opens the modal; the update goes to the channel and the thread', async () => {
    let incident = await declare('P1 Checkout returns 500s');
    incident = await postUpdate(incident, '30% of checkouts fail');
    await eventually(() => {
      const inChannel = bot.sim
        .messagesIn(channel(incident))
        .filter((m) => m.text?.includes('*Status:* Identified'));
      expect(inChannel).toHaveLength(1);
      expect(thread(incident).filter((m) => m.text?.includes('*Status:* Identified'))).toHaveLength(1);
      expect(JSON.stringify(headline(incident)?.blocks)).toContain('30% of checkouts fail');
    });
    const update = thread(incident).find((m) => m.text?.includes('*Status:* Identified'));
    for (const field of [
      '*Impact:* 30% of checkouts fail',
      '*Started:*',
      '*Team:* <@U_ALICE> (commander)',
      '*Next update:*',
    ])
      expect(update?.text).toContain(field);
    expect(incident.nextUpdateDueAt?.getTime()).toBe((incident.lastUpdateAt?.getTime() ?? 0) + 30 * 60_000);
    expect(await timelineKinds(incident)).toEqual(['declared', 'status_update']);
  });

  it('the Post update button opens the same modal with the current state', async () => {
    const incident = await postUpdate(await declare('P1 Search is slow'), '1 in 5 searches time out');
    const opened = await buttonModal(incident, 'incident_post_update');
    expect(JSON.stringify(opened.args.view)).toContain('1 in 5 searches time out');
  });

  it('a severity change needs a reason and is announced in the thread', async () => {
    let incident = await declare('P1 Payments fail');
    expect(await bot.command(`severity INC-${incident.number} P0`)).toContain('Give a reason');
    const answer = await bot.command(`severity INC-${incident.number} sev0 all payments down`);
    expect(answer).toContain('is now P0');
    await eventually(() =>
      expect(thread(incident).some((m) => m.text?.includes('from *P1* to *P0*'))).toBe(true),
    );
    incident = await reload(incident);
    expect(incident.severity).toBe('P0');
    await eventually(() =>
      expect(bot.sim.workspace.channels.get(channel(incident))?.topic?.value).toContain('| P0 |'),
    );
    expect(await timelineKinds(incident)).toEqual(['declared', 'severity_change']);
  });

  it('`/incident role @user commander` changes the commander; topic and headline follow', async () => {
    let incident = await declare('P2 Emails are delayed');
    const answer = await bot.command('role <@U_BOB|bob> commander', { channelId: channel(incident) });
    expect(answer).toContain('<@U_BOB> is now commander');
    incident = await reload(incident);
    expect(incident.commander).toBe('U_BOB');
    expect(bot.sim.workspace.channels.get(channel(incident))?.topic?.value).toContain('Commander: <@U_BOB>');
    expect(JSON.stringify(headline(incident)?.blocks)).toContain('*Commander*\\n<@U_BOB>');
    await bot.command('role <@U_CAROL> scribe', { channelId: channel(incident) });
    expect(JSON.stringify(headline(incident)?.blocks)).toContain('*Scribe*\\n<@U_CAROL>');
    expect(await bot.command('role <@U_CAROL> janitor', { channelId: channel(incident) })).toContain(
      'Roles: commander',
    );
    expect(await timelineKinds(incident)).toEqual(['declared', 'role_change', 'role_change']);
  });

  it('the Assign role button opens a modal whose submission assigns the role', async () => {
    const incident = await declare('P2 Login page is blank');
    const opened = await buttonModal(incident, 'incident_assign_role');
    await bot.slack.submitView({
      viewId: viewId(opened),
      values: { role: { role: 'communications lead' }, user: { user: 'U_DAN' } },
    });
    await eventually(() =>
      expect(JSON.stringify(headline(incident)?.blocks)).toContain('*Communications lead*\\n<@U_DAN>'),
    );
  });

  it('`/incident status` shows the headline; `/incident list` lists open incidents with severity, age and commander', async () => {
    let incident = await declare('P0 Checkout is down');
    incident = await postUpdate(incident, 'no checkout completes');
    await bot.command('role <@U_BOB> commander', { channelId: channel(incident) });
    const status = await bot.slack.slashCommand({
      command: '/incident',
      text: 'status',
      channelId: channel(incident),
    });
    const shown = JSON.stringify(status.json);
    expect(shown).toContain(`INC-${incident.number} · P0 · Checkout is down`);
    expect(shown).toContain('no checkout completes');
    const listed = await bot.command('list');
    const line = listed.split('\n').find((l) => l.includes(`INC-${incident.number} `));
    expect(line).toContain(`INC-${incident.number} [P0] Checkout is down`);
    expect(line).toMatch(/ · Identified · \d+ seconds? · <@U_BOB>/);
  });

  it('Resolve opens a modal and posts the resolution template; post-mortem for P0; archive scheduled', async () => {
    let incident = await declare('P0 Orders are lost');
    incident = await resolve(incident);
    await eventually(() => {
      expect(thread(incident).some((m) => m.text?.includes('RESOLVED'))).toBe(true);
      expect(bot.sim.workspace.channels.get(channel(incident))?.topic?.value).toContain('Resolved');
      // Updates of one message are at most a second apart (rate limiter): the headline may follow.
      expect(JSON.stringify(headline(incident)?.blocks)).toContain('incident_reopen');
    });
    const resolution = thread(incident).find((m) => m.text?.includes('RESOLVED'));
    expect(resolution?.text).toContain('*Resolution:* Rolled back to v2.2');
    expect(resolution?.text).toContain('*Root Cause:* Bad migration');
    expect(resolution?.text).toContain('*Duration:*');
    expect(resolution?.text).toContain('within 48 hours');
    expect(incident.status).toBe('resolved');
    expect(await timelineKinds(incident)).toEqual(['declared', 'resolved']);
  });

  it('`/incident reopen` brings it back to investigating', async () => {
    const incident = await resolve(await declare('P2 Invoices are late'));
    const answer = await bot.command(`reopen INC-${incident.number}`);
    expect(answer).toContain('reopened');
    const reopened = await reload(incident);
    expect(reopened.status).toBe('investigating');
    expect(reopened.resolvedAt).toBeNull();
  });
});
