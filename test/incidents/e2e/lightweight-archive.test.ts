import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

describe('lightweight mode and archiving', () => {
  let bot: IncidentBot;
  beforeAll(async () => {
    bot = await startIncidentBot(
      ['incidents:', '  createChannel: false', '  archiveAfter: 100ms', '  declareIn: ["#incidents"]'].join(
        '\n',
      ),
    );
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('refuses to declare outside the configured channels', async () => {
    const answer = await bot.command('declare P1 Oops', { channelId: 'C_GENERAL' });
    expect(answer).toContain('Incidents are declared in #incidents');
  });

  it('with the channel option off, the incident lives in the #incidents thread', async () => {
    const answer = await bot.command('declare P2 Reports are late');
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    expect(incident?.channelId).toBeNull();
    expect(bot.sim.callsTo('conversations.create')).toHaveLength(0);
    expect(incident?.headline).toEqual(incident?.announcement);
    const ts = incident?.announcement?.ts.replace('.', '');
    expect(answer).toContain(
      `Follow it in <https://runbook-sim.slack.com/archives/C_INCIDENTS/p${ts}|the INC-${number} thread> in <#C_INCIDENTS>.`,
    );
    const severity = await bot.command(`severity INC-${number} P1 finance close is today`);
    expect(severity).toContain('is now P1');
    const thread = bot.sim.thread('C_INCIDENTS', incident?.announcement?.ts ?? '');
    expect(thread.some((m) => m.text?.includes('from *P2* to *P1*'))).toBe(true);
    const root = thread[0];
    expect(JSON.stringify(root?.blocks)).toContain('P1 (High)');
  });

  it('archives a resolved incident channel after incidents.archiveAfter', async () => {
    // This bot runs lightweight; make a channel incident directly through the modal's checkbox.
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({ command: '/incident', text: 'declare', channelId: 'C_INCIDENTS' });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: {
        title: { title: 'Queue backlog' },
        severity: { severity: 'P3' },
        commander: { commander: 'U_ALICE' },
        channel: { channel: ['create_channel'] },
      },
    });
    const incident = await eventually(async () => {
      const found = (await bot.runtime.services.repos.incidents.listOpen()).find(
        (i) => i.title === 'Queue backlog',
      );
      if (!found?.channelId || !found.headline) throw new Error('not set up yet');
      return found;
    });
    const sinceResolve = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId: incident.channelId ?? '', ts: incident.headline?.ts },
      actionId: 'incident_resolve',
    });
    const resolveModal = await bot.sim.waitForCall('views.open', { since: sinceResolve });
    await bot.slack.submitView({
      viewId: String((resolveModal.response.view as { id: string }).id),
      values: { resolution: { resolution: 'Drained' } },
    });
    await eventually(() =>
      expect(bot.sim.workspace.channels.get(incident.channelId ?? '')?.isArchived).toBe(true),
    );
    const resolution = bot.sim
      .messagesIn(incident.channelId ?? '', { includeDeleted: true })
      .find((m) => m.text?.includes('RESOLVED'));
    expect(resolution?.text).not.toContain('Post-mortem');
  });
});
