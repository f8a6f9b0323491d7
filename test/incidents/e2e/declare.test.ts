import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

describe('/incident declare, end to end', () => {
  let bot: IncidentBot;
  beforeAll(async () => {
    bot = await startIncidentBot();
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('declares at once from text: channel, invites, topic, pinned headline, announcement', async () => {
    const answer = await bot.command('declare p1 Checkout returns 500s');
    expect(answer).toMatch(/INC-\d+ declared/);
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    expect(incident?.severity).toBe('P1');
    expect(incident?.title).toBe('Checkout returns 500s');
    const channel = bot.sim.workspace.channels.get(incident?.channelId ?? '');
    expect(channel?.name).toBe(`inc-${number}-checkout-returns-500s`);
    expect(channel?.members.has('U_ALICE')).toBe(true);
    expect(channel?.topic?.value ?? '').toContain(
      `INC-${number} | P1 | Investigating | Commander: <@U_ALICE>`,
    );
    const headline = bot.sim
      .messagesIn(incident?.channelId ?? '')
      .find((m) => m.ts === incident?.headline?.ts);
    expect(headline?.pinned).toBe(true);
    const actionIds = JSON.stringify(headline?.blocks);
    for (const id of [
      'incident_post_update',
      'incident_change_severity',
      'incident_assign_role',
      'incident_run_health_check',
      'incident_resolve',
    ])
      expect(actionIds).toContain(id);
    expect(actionIds).toContain(`"value":"${number}"`);
    expect(incident?.announcement?.channelId).toBe('C_INCIDENTS');
    const events = await bot.runtime.services.repos.timeline.list(number);
    expect(events.map((e) => e.kind)).toEqual(['declared']);
    expect(events[0]?.actor).toBe('U_ALICE');
  });

  it('answers an unknown severity with the valid levels, privately, and declares nothing', async () => {
    const before = (await bot.runtime.services.repos.incidents.listOpen()).length;
    const answer = await bot.command('declare P9 Something');
    expect(answer).toContain(':warning:');
    expect(answer).toContain('P0, P1, P2, P3');
    expect((await bot.runtime.services.repos.incidents.listOpen()).length).toBe(before);
  });

  it('opens the declare modal with no text, and declares once on a double submit', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: 'declare',
      userId: 'U_BOB',
      channelId: 'C_INCIDENTS',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    const view = JSON.stringify(opened.args.view);
    expect(view).toContain('Respond within 15m');
    const values = {
      title: { title: 'Search is slow' },
      severity: { severity: 'P2' },
      summary: { summary: 'p95 at 3s since 10:02' },
      commander: { commander: 'U_CAROL' },
      channel: { channel: ['create_channel'] },
    };
    const viewId = String((opened.response.view as { id: string }).id);
    const [first, second] = await Promise.all([
      bot.slack.submitView({ viewId, userId: 'U_BOB', values }),
      bot.slack.submitView({ viewId, userId: 'U_BOB', values, applyResult: false }),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const incident = await eventually(async () => {
      const found = (await bot.runtime.services.repos.incidents.listOpen()).filter(
        (i) => i.title === 'Search is slow',
      );
      expect(found).toHaveLength(1);
      expect(found[0]?.headline).not.toBeNull();
      return found[0];
    });
    expect(incident?.commander).toBe('U_CAROL');
    expect(incident?.summary).toBe('p95 at 3s since 10:02');
    const channel = bot.sim.workspace.channels.get(incident?.channelId ?? '');
    expect(channel?.members.has('U_CAROL')).toBe(true);
    expect(channel?.members.has('U_BOB')).toBe(true);
    // The repeat submission declares nothing new and says where the first one lives.
    const told = await eventually(() => {
      const texts = bot.sim.ephemeralsFor('U_BOB').map((e) => e.text);
      const repeat = texts.find((t) => t.includes('already declared'));
      if (!repeat) throw new Error(`no answer to the repeat yet: ${texts.join(' | ')}`);
      return repeat;
    });
    expect(told).toBe(
      `INC-${incident?.number} was already declared from this request; it lives in <#${incident?.channelId}>.`,
    );
  });

  it('escapes user text: a title with <!channel> and <@U123> pings nobody and shows as typed', async () => {
    const answer = await bot.command('declare P2 <!channel> & <@U123> broke');
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    expect(incident?.title).toBe('<!channel> & <@U123> broke');
    const announcement = bot.sim.messagesIn('C_INCIDENTS').find((m) => m.ts === incident?.announcement?.ts);
    const json = JSON.stringify({ text: announcement?.text, blocks: announcement?.blocks });
    expect(json).toContain('&lt;!channel&gt; &amp; &lt;@U123&gt; broke');
    const mrkdwn = JSON.stringify(
      (announcement?.blocks ?? []).filter((b) => (b as { type?: string }).type !== 'header'),
    );
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<@U123>');
  });

  it('keeps a 5,000-character title within every Slack limit', async () => {
    const title = 'x'.repeat(4_990);
    const since = bot.sim.calls.length;
    const answer = await bot.command(`declare P3 ${title}`);
    expect(answer).toMatch(/INC-\d+ declared/);
    const failed = bot.sim.calls.slice(since).filter((c) => c.response.ok === false);
    expect(failed.map((c) => `${c.method}: ${String(c.response.error)}`)).toEqual([]);
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    expect(incident?.title).toHaveLength(4_990);
    expect(bot.sim.workspace.channels.get(incident?.channelId ?? '')?.name.length).toBeLessThanOrEqual(80);
  });

  it('opens the declare modal prefilled from a 5,000-character title without a severity, within the view limits', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({ command: '/incident', text: `declare ${'y'.repeat(5_000)}` });
    const opened = await bot.sim.waitForCall('views.open', { since });
    expect(opened.response.ok).toBe(true);
  });
});
