import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../../src/incidents/incident.ts';
import type { SimMessage } from '../../../src/local/slack/workspace.ts';
import {
  TIMELINE_NEXT_ACTION,
  TIMELINE_PREVIOUS_ACTION,
} from '../../../src/slack/incidents/blocks/timeline.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';

interface LogLine {
  msg: string;
  outcome?: string;
  err?: { message: string };
}

describe('the incident timeline, end to end', () => {
  let bot: TestBot;
  let web: WebClient;
  let channels = 0;

  beforeAll(async () => {
    bot = await startTestBot();
    web = new WebClient(bot.sim.botToken, { slackApiUrl: bot.sim.apiUrl });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  /** An incident with a channel the bot created (as declare does), Alice and Bob in it. */
  async function incidentWithChannel(title = 'Checkout down'): Promise<Incident> {
    channels += 1;
    const created = await web.conversations.create({ name: `inc-timeline-${channels}` });
    const channelId = created.channel?.id;
    if (!channelId) throw new Error('conversations.create gave no channel id');
    await web.conversations.invite({ channel: channelId, users: 'U_ALICE,U_BOB' });
    const { repos } = bot.runtime.services;
    const { incident } = await repos.incidents.declare({ title, severity: 'P1', declaredBy: 'U_ALICE' });
    const withChannel = await repos.incidents.setSlackRefs(incident.number, { channelId });
    if (!withChannel) throw new Error('setSlackRefs lost the incident');
    return withChannel;
  }

  /** Sends a reaction event (updating the message's reactions first, as Slack does) and waits for it. */
  async function react(
    type: 'reaction_added' | 'reaction_removed',
    message: SimMessage,
    options: { user?: string; reaction?: string; eventId?: string; retryNum?: number } = {},
  ): Promise<LogLine> {
    const user = options.user ?? 'U_BOB';
    const reaction = options.reaction ?? 'pushpin';
    if (options.retryNum === undefined) {
      let entry = message.reactions.find((r) => r.name === reaction);
      if (!entry) {
        entry = { name: reaction, users: [] };
        message.reactions.push(entry);
      }
      entry.users =
        type === 'reaction_added' ? [...entry.users, user] : entry.users.filter((u) => u !== user);
      message.reactions = message.reactions.filter((r) => r.users.length > 0);
    }
    const since = bot.logs.length;
    const sent = await bot.slack.sendEvent(
      {
        type,
        user,
        reaction,
        item_user: message.user,
        item: { type: 'message', channel: message.channel, ts: message.ts },
        event_ts: `${Math.floor(Date.now() / 1000)}.000200`,
      },
      {
        ...(options.eventId ? { eventId: options.eventId } : {}),
        // A retry is signed anew, later (a byte-identical repeat is dropped as a replay before any handler).
        ...(options.retryNum !== undefined
          ? { retryNum: options.retryNum, timestamp: Math.floor(Date.now() / 1000) + options.retryNum }
          : {}),
      },
    );
    expect(sent.status).toBe(200);
    return waitForLog(since);
  }

  async function waitForLog(since: number): Promise<LogLine> {
    for (let i = 0; i < 500; i++) {
      for (const raw of bot.logs.slice(since)) {
        const line = JSON.parse(raw) as LogLine;
        if (line.msg === 'reaction event handled' || line.msg === 'unhandled error in a Slack listener') {
          return line;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the bot did not finish handling the event');
  }

  async function timeline(incident: Incident) {
    return bot.runtime.services.repos.timeline.list(incident.number, { limit: 1000 });
  }

  it('adds a 📌-ed message with author, text and permalink, once despite a retried delivery', async () => {
    const incident = await incidentWithChannel();
    const message = bot.sim.postUserMessage({
      channel: incident.channelId ?? '',
      user: 'U_ALICE',
      text: 'DB failover started <!channel> & <@U123>',
    });
    const first = await react('reaction_added', message, { eventId: 'Ev0PIN0001' });
    expect(first.outcome).toBe('pinned');
    const retry = await react('reaction_added', message, { eventId: 'Ev0PIN0001', retryNum: 1 });
    expect(retry.outcome).toBe('duplicate');

    const events = await timeline(incident);
    expect(events).toHaveLength(1);
    const [pinned] = events;
    expect(pinned?.kind).toBe('pinned_message');
    expect(pinned?.actor).toBe('U_ALICE');
    expect(pinned?.text).toBe('DB failover started <!channel> & <@U123>');
    expect(pinned?.sourceKey).toBe(`pin:${message.channel}:${message.ts}`);
    expect(pinned?.at.getTime()).toBe(Math.floor(Number(message.ts) * 1000));
    expect(pinned?.data).toMatchObject({
      author: 'U_ALICE',
      pinnedBy: 'U_BOB',
      permalink: expect.stringMatching(
        new RegExp(`/archives/${message.channel}/p${message.ts.replace('.', '')}$`),
      ),
    });

    // A second person's 📌 (a different event) adds nothing; taking one off keeps it; the last removes it.
    expect((await react('reaction_added', message, { user: 'U_CAROL' })).outcome).toBe('already_pinned');
    expect((await react('reaction_removed', message, { user: 'U_CAROL' })).outcome).toBe('still_pinned');
    expect(await timeline(incident)).toHaveLength(1);
    const removed = await react('reaction_removed', message, { eventId: 'Ev0UNPIN01' });
    expect(removed.outcome).toBe('unpinned');
    expect(await timeline(incident)).toHaveLength(0);

    // A late retry of the first add must not bring it back.
    expect((await react('reaction_added', message, { eventId: 'Ev0PIN0001', retryNum: 2 })).outcome).toBe(
      'duplicate',
    );
    expect(await timeline(incident)).toHaveLength(0);
  });

  it('adds a 📌-ed thread reply, with its thread permalink', async () => {
    const incident = await incidentWithChannel();
    const root = bot.sim.postUserMessage({
      channel: incident.channelId ?? '',
      user: 'U_ALICE',
      text: 'root',
    });
    const reply = bot.sim.postUserMessage({
      channel: incident.channelId ?? '',
      user: 'U_BOB',
      text: 'replica promoted',
      threadTs: root.ts,
    });
    expect((await react('reaction_added', reply, { user: 'U_ALICE' })).outcome).toBe('pinned');
    const [event] = await timeline(incident);
    expect(event?.text).toBe('replica promoted');
    expect(event?.actor).toBe('U_BOB');
    expect(String(event?.data.permalink)).toContain(`thread_ts=${root.ts}`);
  });

  it('reports a 📌 on a message it cannot read, and lets Slack’s retry of that event succeed', async () => {
    const incident = await incidentWithChannel();
    const message = bot.sim.postUserMessage({
      channel: incident.channelId ?? '',
      user: 'U_ALICE',
      text: 'gone',
    });
    message.deleted = true;
    const failed = await react('reaction_added', message, { eventId: 'Ev0DELETED' });
    expect(failed.msg).toBe('unhandled error in a Slack listener');
    expect(failed.err?.message).toContain(
      `📌 on message ${message.ts} in ${message.channel}, but the message cannot be read`,
    );
    expect(await timeline(incident)).toHaveLength(0);
    message.deleted = false;
    expect((await react('reaction_added', message, { eventId: 'Ev0DELETED', retryNum: 1 })).outcome).toBe(
      'pinned',
    );
    expect(await timeline(incident)).toHaveLength(1);
  });

  it('ignores other reactions and 📌 outside incident channels', async () => {
    const incident = await incidentWithChannel();
    const inIncident = bot.sim.postUserMessage({
      channel: incident.channelId ?? '',
      user: 'U_ALICE',
      text: 'hi',
    });
    expect((await react('reaction_added', inIncident, { reaction: 'thumbsup' })).outcome).toBe('ignored');
    const elsewhere = bot.sim.postUserMessage({ channel: 'C_GENERAL', user: 'U_ALICE', text: 'lunch?' });
    expect((await react('reaction_added', elsewhere)).outcome).toBe('ignored');
    expect(await timeline(incident)).toHaveLength(0);
  });

  it('`/incident note` adds a note with its author; without text it explains the usage', async () => {
    const incident = await incidentWithChannel();
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'note Rolled back <!channel> & <@U123>',
      userId: 'U_BOB',
      channelId: incident.channelId ?? '',
    });
    const body = res.json as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(`Added to INC-${incident.number}'s timeline`);
    expect(body.text).toContain('Rolled back &lt;!channel&gt; &amp; &lt;@U123&gt;');
    const [note] = await timeline(incident);
    expect(note).toMatchObject({ kind: 'note', actor: 'U_BOB', text: 'Rolled back <!channel> & <@U123>' });

    // Named from another channel.
    await bot.slack.slashCommand({
      command: '/incident',
      text: `note INC-${incident.number} second`,
      userId: 'U_ALICE',
    });
    expect((await timeline(incident)).map((e) => e.text)).toEqual([
      'Rolled back <!channel> & <@U123>',
      'second',
    ]);

    const empty = await bot.slack.slashCommand({
      command: '/incident',
      text: 'note',
      channelId: incident.channelId ?? '',
    });
    expect((empty.json as { text: string }).text).toContain(':warning: A note needs some text.');
    const outside = await bot.slack.slashCommand({
      command: '/incident',
      text: 'note hello',
      channelId: 'C_GENERAL',
    });
    expect((outside.json as { text: string }).text).toContain('works inside an incident');
  });

  it('`/incident timeline` shows the newest page of 300 events; Previous/Next replace it in place', async () => {
    const incident = await incidentWithChannel('Payments <!here> & friends');
    const { timeline: repo } = bot.runtime.services.repos;
    const start = Date.UTC(2026, 0, 5, 8, 0, 0);
    for (let i = 1; i <= 300; i++) {
      await repo.add({
        incidentNumber: incident.number,
        actor: i % 2 ? 'U_ALICE' : 'bot',
        kind: i === 1 ? 'declared' : 'note',
        text: i % 50 === 0 ? `#${i} ${'<!channel> & '.repeat(400)}`.slice(0, 5000) : `#${i} step`,
        at: new Date(start + i * 1000),
      });
    }
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'timeline',
      userId: 'U_ALICE',
      channelId: incident.channelId ?? '',
    });
    expect(res.status).toBe(200);
    const page = await bot.sim.waitForResponse({ since });
    expect(page.outcome).toBe('ephemeral');
    const text = String(page.body.text);
    expect(text).toBe(`INC-${incident.number} timeline, page 15 of 15 (300 events)`);
    const shown = JSON.stringify(page.body.blocks);
    expect(shown).toContain('#300 ');
    expect(shown).toContain('#281 step');
    expect(shown).not.toContain('#280 step');
    expect(shown).toContain('<!date^');
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('&lt;!channel&gt; &amp;');

    // Previous: the same ephemeral now shows page 14.
    const clickSince = bot.sim.responses.length;
    await bot.slack.clickButton({ actionId: TIMELINE_PREVIOUS_ACTION, userId: 'U_ALICE' });
    const replaced = await bot.sim.waitForResponse({ since: clickSince });
    expect(replaced.outcome).toBe('replaced');
    expect(replaced.messageTs).toBe(page.messageTs);
    expect(String(replaced.body.text)).toContain('page 14 of 15');
    const eph = bot.sim.ephemeralsFor('U_ALICE').find((e) => e.ts === page.messageTs);
    expect(JSON.stringify(eph?.blocks)).toContain('#261 step');

    const nextSince = bot.sim.responses.length;
    await bot.slack.clickButton({ actionId: TIMELINE_NEXT_ACTION, userId: 'U_ALICE' });
    expect(String((await bot.sim.waitForResponse({ since: nextSince })).body.text)).toContain(
      'page 15 of 15',
    );

    // A typed page, and a page past the end.
    const typedSince = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: `timeline INC-${incident.number} page 1`,
      userId: 'U_ALICE',
    });
    const first = await bot.sim.waitForResponse({ since: typedSince });
    expect(String(first.body.text)).toContain('page 1 of 15');
    expect(JSON.stringify(first.body.blocks)).toContain(':rotating_light:');
    const pastSince = bot.sim.responses.length;
    await bot.slack.slashCommand({ command: '/incident', text: `timeline INC-${incident.number} page 99` });
    expect(String((await bot.sim.waitForResponse({ since: pastSince })).body.text)).toContain(
      'has 15 pages (300 events); there is no page 99',
    );
  });

  it('`/incident timeline export` sends the Markdown privately in code blocks within Slack limits', async () => {
    const incident = await incidentWithChannel('DB <!channel> & co');
    const { timeline: repo } = bot.runtime.services.repos;
    for (let i = 1; i <= 300; i++) {
      await repo.add({
        incidentNumber: incident.number,
        actor: 'U_BOB',
        kind: 'note',
        text: `step ${i} ${'x'.repeat(400)}`,
        at: new Date(Date.UTC(2026, 0, 5, 8, 0, i)),
      });
    }
    const since = bot.sim.calls.length;
    const respSince = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: 'timeline export',
      userId: 'U_BOB',
      channelId: incident.channelId ?? '',
    });
    const done = await bot.sim.waitForResponse({ since: respSince });
    expect(String(done.body.text)).toMatch(
      /Sent INC-\d+'s timeline \(300 events\) as Markdown to you in a direct message, in \d+ messages/,
    );
    const posts = bot.sim.callsTo('chat.postMessage').filter((c) => c.index >= since);
    expect(posts.length).toBeGreaterThan(1);
    const dm = String(posts[0]?.args.channel);
    expect(dm.startsWith('D')).toBe(true);
    let markdown = '';
    for (const post of posts) {
      expect(post.response).toMatchObject({ ok: true });
      expect(post.args.channel).toBe(dm);
      const blocks = post.args.blocks as { text: { text: string } }[];
      const texts = blocks.map((b) => b.text.text);
      expect(texts.reduce((n, t) => n + t.length, 0)).toBeLessThan(40_000);
      for (const t of texts) {
        expect(t.length).toBeLessThanOrEqual(3000);
        expect(t.startsWith('```\n')).toBe(true);
        markdown += `${t.slice(4, -4)}\n`;
      }
    }
    expect(markdown).toContain(`# INC-${incident.number}: DB \\&lt;!channel\\&gt; &amp; co`);
    expect(markdown).toContain('- **Severity:** P1');
    expect(markdown).toContain('- **Status:** Investigating');
    expect(markdown).toContain('| 2026-01-05T08:00:01Z | @bob | Note | step 1 x');
    expect(markdown).toContain('| 2026-01-05T08:05:00Z | @bob | Note | step 300 x');
  });
});
