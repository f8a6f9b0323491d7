/**
 * The request layer against the real bot (two replicas on one Postgres schema): timestamps refused
 * both ways, replays and double deliveries run nothing twice, clicks and submissions count once,
 * and hostile input gets a plain answer within the ack deadline.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Incident } from '../../src/incidents/incident.ts';
import type { RecordedCall } from '../../src/local/slack/server.ts';
import { INCIDENT_ACTIONS } from '../../src/slack/incidents/blocks/headline.ts';
import { DATABASE_UNREACHABLE } from '../../src/slack/kit/unavailable.ts';
import {
  blockTexts,
  type HealthFixtures,
  SECRET_NAME,
  startHealthFixtures,
} from '../commands/health-fixtures.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const OUT_OF_DATE_BUTTON = 'This button is out of date: run the command again.';
const OUT_OF_DATE_FORM = 'This form is out of date: run the command again.';

async function metricValue(bot: TestBot, name: string): Promise<number> {
  const text = await (await fetch(`${bot.runtime.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('signed requests, replays and exactly-once actions, end to end', () => {
  let fx: HealthFixtures;
  let bot: TestBot;
  let replica: TestBot;
  let channels = 0;

  beforeAll(async () => {
    fx = await startHealthFixtures();
    const env = { RUNBOOK_CONFIG: fx.configPath, [SECRET_NAME]: fx.secret };
    bot = await startTestBot({ env });
    replica = await startTestBot({ env, replicaOf: bot });
  });
  afterAll(async () => {
    await replica?.stop();
    await bot?.stop();
    await fx?.close();
  });

  /** An incident with a channel of its own (Alice and Bob in it), affecting `api`. */
  async function incidentWithChannel(): Promise<Incident & { channelId: string }> {
    channels += 1;
    const { client } = bot.runtime.bot.app;
    const created = await client.conversations.create({ name: `inc-requests-${channels}` });
    const channelId = String(created.channel?.id);
    await client.conversations.invite({ channel: channelId, users: 'U_ALICE,U_BOB' });
    const { incident } = await bot.runtime.services.repos.incidents.declare({
      title: 'Checkout errors',
      severity: 'P2',
      declaredBy: 'U_ALICE',
      affectedServices: ['api'],
      channelId,
    });
    return { ...incident, channelId };
  }

  async function notes(incident: Incident, text: string): Promise<number> {
    const events = await bot.runtime.services.repos.timeline.list(incident.number);
    return events.filter((e) => e.kind === 'note' && e.text === text).length;
  }

  /** A message from the bot with one button, as the headline carries them. */
  async function buttonMessage(channel: string, actionId: string, value: string) {
    return bot.runtime.bot.app.client.chat.postMessage({
      channel,
      text: 'buttons',
      blocks: [
        {
          type: 'actions',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Click' }, action_id: actionId, value },
          ],
        },
      ],
    });
  }

  describe('timestamps', () => {
    it('refuses a request stamped more than 5 minutes in the future or the past with 401, before any handler', async () => {
      const incident = await incidentWithChannel();
      const handled = await metricValue(bot, 'runbook_requests_total');
      const calls = bot.sim.calls.length;
      const now = Math.floor(Date.now() / 1000);
      for (const timestamp of [now + 6 * 60, now - 6 * 60]) {
        const res = await bot.slack.slashCommand({
          command: '/incident',
          text: 'note from another time',
          channelId: incident.channelId,
          timestamp,
        });
        expect(res.status).toBe(401);
        expect(res.body).toBe('');
      }
      expect(await notes(incident, 'from another time')).toBe(0);
      expect(await metricValue(bot, 'runbook_requests_total')).toBe(handled);
      expect(bot.sim.calls.length).toBe(calls);
    });

    it('still takes a request stamped a few minutes off, either way', async () => {
      const incident = await incidentWithChannel();
      const now = Math.floor(Date.now() / 1000);
      for (const [timestamp, text] of [
        [now + 4 * 60, 'a bit ahead'],
        [now - 4 * 60, 'a bit behind'],
      ] as const) {
        const res = await bot.slack.slashCommand({
          command: '/incident',
          text: `note ${text}`,
          channelId: incident.channelId,
          timestamp,
        });
        expect(res.status).toBe(200);
        expect(await notes(incident, text)).toBe(1);
      }
    });
  });

  describe('replays and double deliveries', () => {
    it('treats a byte-identical replay of `/incident note` as a no-op', async () => {
      const incident = await incidentWithChannel();
      const first = await bot.slack.slashCommand({
        command: '/incident',
        text: 'note Failed over to the replica',
        channelId: incident.channelId,
        userId: 'U_BOB',
      });
      expect((first.json as { text: string }).text).toContain('Added to');
      const replay = await bot.slack.resend(first);
      expect(replay.status).toBe(200);
      expect(replay.body).toBe('');
      expect(await notes(incident, 'Failed over to the replica')).toBe(1);
    });

    it('adds one note when the same delivery reaches both replicas, or comes again re-signed', async () => {
      const incident = await incidentWithChannel();
      const first = await bot.slack.slashCommand({
        command: '/incident',
        text: 'note Cache flushed',
        channelId: incident.channelId,
      });
      expect(first.status).toBe(200);
      const onReplica = await replica.slack.resend(first);
      expect(onReplica.status).toBe(200);
      // A retry is signed anew: past the replay cache, the trigger id still makes it one note.
      const resigned = await replica.slack.slashCommand({
        command: '/incident',
        text: 'note Cache flushed',
        channelId: incident.channelId,
        triggerId: first.triggerId,
        responseUrl: first.responseUrl,
        timestamp: Number(first.requestHeaders['X-Slack-Request-Timestamp']) + 1,
        retryNum: 1,
      });
      expect(resigned.status).toBe(200);
      expect(await notes(incident, 'Cache flushed')).toBe(1);
    });

    it('posts one health check when "Run health check" is double-clicked across two replicas', async () => {
      const incident = await incidentWithChannel();
      const headline = await buttonMessage(
        incident.channelId,
        INCIDENT_ACTIONS.runHealthCheck,
        String(incident.number),
      );
      const calls = bot.sim.calls.length;
      const responses = bot.sim.responses.length;
      const clicks = await Promise.all([
        bot.slack.clickButton({
          message: headline,
          actionId: INCIDENT_ACTIONS.runHealthCheck,
          userId: 'U_BOB',
        }),
        replica.slack.clickButton({
          message: headline,
          actionId: INCIDENT_ACTIONS.runHealthCheck,
          userId: 'U_BOB',
        }),
      ]);
      expect(clicks.map((c) => c.status)).toEqual([200, 200]);
      // The click that lost is told privately; the one that won posts and records the check.
      const told = await bot.sim.waitForResponse({ since: responses });
      expect(String(told.body.text)).toContain('already running');
      await vi.waitFor(async () => {
        const events = await bot.runtime.services.repos.timeline.list(incident.number);
        expect(events.filter((e) => e.kind === 'health_check')).toHaveLength(1);
      });
      const isHealthPost = (c: RecordedCall) =>
        c.method === 'chat.postMessage' &&
        c.args.channel === incident.channelId &&
        (blockTexts(c.args.blocks)[0] ?? '').includes('Health check for');
      expect(bot.sim.calls.slice(calls).filter(isHealthPost)).toHaveLength(1);
    });
  });

  describe('hostile and broken input', () => {
    /** The private answers the bot gave `user` in `channel` since `since`. */
    function ephemeralTexts(since: number, channel: string): string[] {
      return bot.sim.calls
        .slice(since)
        .filter((c) => c.method === 'chat.postEphemeral' && c.args.channel === channel)
        .map((c) => String(c.args.text));
    }

    it('answers a button with a non-numeric or 11-digit value "out of date", acked in time', async () => {
      const incident = await incidentWithChannel();
      for (const value of ['abc', '12345678901', '-1']) {
        const message = await buttonMessage(incident.channelId, INCIDENT_ACTIONS.postUpdate, value);
        const since = bot.sim.calls.length;
        const click = await bot.slack.clickButton({ message, actionId: INCIDENT_ACTIONS.postUpdate });
        expect(click.status).toBe(200);
        expect(click.withinAckDeadline).toBe(true);
        const answer = await vi.waitFor(() => {
          const [text] = ephemeralTexts(since, incident.channelId);
          if (text === undefined) throw new Error('no answer yet');
          return text;
        });
        expect(answer).toBe(`:warning: ${OUT_OF_DATE_BUTTON}`);
      }
    });

    it('answers a form with garbage private_metadata or state "out of date" in the modal, within the ack', async () => {
      const incident = await incidentWithChannel();
      const since = bot.sim.calls.length;
      await bot.slack.slashCommand({ command: '/incident', text: 'update', channelId: incident.channelId });
      const opened = await bot.sim.waitForCall('views.open', { since });
      const viewId = String((opened.response.view as { id: string }).id);
      const stored = bot.sim.workspace.views.get(viewId);
      if (!stored) throw new Error('the simulator lost the view');
      let submitted: Record<string, unknown> = {};
      for (const metadata of ['{not json', '{"n":"seven"}', '{"n":99999999999}', '{}']) {
        stored.view.private_metadata = metadata;
        const res = await bot.slack.submitView({
          viewId,
          values: { status: { status: 'identified' }, impact: { impact: 'none' } },
        });
        expect(res.status).toBe(200);
        expect(res.withinAckDeadline).toBe(true);
        expect(res.errors).toEqual({ status: OUT_OF_DATE_FORM });
        submitted = res.payload;
      }
      // The bot's own metadata, garbage where Slack puts the values.
      const payload = structuredClone(submitted) as { view: { private_metadata: string; state: unknown } };
      payload.view.private_metadata = JSON.stringify({ n: incident.number, c: incident.channelId });
      payload.view.state = { values: 'garbage' };
      const garbage = await bot.slack.sendInteraction(payload);
      expect(garbage.withinAckDeadline).toBe(true);
      expect(garbage.json).toEqual({ response_action: 'errors', errors: { status: OUT_OF_DATE_FORM } });
      const after = await bot.runtime.services.repos.incidents.get(incident.number);
      expect(after?.status).toBe('investigating');
    });

    it('strips a NUL byte (and other control characters) from a title and a note', async () => {
      const since = bot.sim.responses.length;
      const res = await bot.slack.slashCommand({
        command: '/incident',
        text: 'declare P1 a\u0000b\u001bc\u0085d',
        channelId: 'C_INCIDENTS',
      });
      expect(res.status).toBe(200);
      const answer = await bot.sim.waitForResponse({ since });
      const number = Number(/INC-(\d+)/.exec(String(answer.body.text))?.[1]);
      const incident = await bot.runtime.services.repos.incidents.get(number);
      expect(incident?.title).toBe('abcd');

      const other = await incidentWithChannel();
      const note = await bot.slack.slashCommand({
        command: '/incident',
        text: 'note line\u0000one\nline\ttwo',
        channelId: other.channelId,
      });
      expect((note.json as { text: string }).text).toContain('Added to');
      expect(await notes(other, 'lineone\nline\ttwo')).toBe(1);
    });

    it('names an incident number too large for an incident plainly', async () => {
      const res = await bot.slack.slashCommand({
        command: '/incident',
        text: 'note INC-99999999999 hello',
        channelId: 'C_GENERAL',
      });
      expect((res.json as { text: string }).text).toContain('There is no incident INC-99999999999.');
    });

    it('escapes what it echoes: a `<!everyone>` role and a disguised link ping nobody and show as typed', async () => {
      const incident = await incidentWithChannel();
      const since = bot.sim.responses.length;
      await bot.slack.slashCommand({
        command: '/incident',
        text: 'role <@U_BOB> <!everyone>',
        channelId: incident.channelId,
      });
      const roleText = String((await bot.sim.waitForResponse({ since })).body.text);
      expect(roleText).toContain('"&lt;!everyone&gt;" is not an incident role');
      expect(roleText).not.toContain('<!everyone>');

      const link = '<https://evil.example|https://slack.com>';
      for (const [command, text] of [
        ['/deploy', `health ${link}`],
        ['/incident', link],
      ] as const) {
        const res = await bot.slack.slashCommand({ command, text, channelId: incident.channelId });
        const body = (res.json as { text: string }).text;
        expect(body).toContain('&lt;https://evil.example|https://slack.com&gt;');
        expect(body).not.toContain('<https://evil');
      }
    });
  });
});

describe('modal submissions with Redis down, end to end', () => {
  let proxy: TcpProxy;
  let bot: TestBot;
  beforeAll(async () => {
    const redis = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    bot = await startTestBot({ env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` } });
    await proxy.refuse();
  });
  afterAll(async () => {
    await bot?.stop();
    await proxy?.close();
  });

  async function openModal(text: string, channelId: string): Promise<string> {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({ command: '/incident', text, channelId });
    const opened = await bot.sim.waitForCall('views.open', { since });
    return String((opened.response.view as { id: string }).id);
  }

  it('declares from the modal exactly once, double submit included, and posts an update once', async () => {
    await expect(bot.runtime.services.coordination.ping()).rejects.toThrow();
    const viewId = await openModal('declare', 'C_INCIDENTS');
    const values = {
      title: { title: 'Redis is down, incidents are not' },
      severity: { severity: 'P2' },
      channel: { channel: [] },
    };
    const [first, second] = await Promise.all([
      bot.slack.submitView({ viewId, values }),
      bot.slack.submitView({ viewId, values, applyResult: false }),
    ]);
    expect(first.withinAckDeadline && second.withinAckDeadline).toBe(true);
    const { repos } = bot.runtime.services;
    const incident = await vi.waitFor(async () => {
      const found = (await repos.incidents.listOpen()).filter(
        (i) => i.title === 'Redis is down, incidents are not',
      );
      expect(found).toHaveLength(1);
      expect(found[0]?.announcement).not.toBeNull();
      return found[0];
    });
    if (!incident) throw new Error('no incident');

    const updateView = await openModal(`update INC-${incident.number}`, 'C_INCIDENTS');
    const update = { status: { status: 'identified' }, impact: { impact: 'Checkout slow' } };
    await Promise.all([
      bot.slack.submitView({ viewId: updateView, values: update }),
      bot.slack.submitView({ viewId: updateView, values: update, applyResult: false }),
    ]);
    await vi.waitFor(async () => {
      expect((await repos.incidents.get(incident.number))?.status).toBe('identified');
    });
    const events = await repos.timeline.list(incident.number);
    expect(events.filter((e) => e.kind === 'status_update')).toHaveLength(1);
  });
});

describe('exactly-once claims with Postgres down, end to end', () => {
  let proxy: TcpProxy;
  let bot: TestBot;
  beforeAll(async () => {
    const postgres = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    const url = new URL(TEST_DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    bot = await startTestBot({ env: { DATABASE_URL: url.toString() } });
  });
  afterAll(async () => {
    await bot?.stop();
    await proxy?.close();
  });

  it('lets the request through the replay cache, then tells the clicker plainly that nothing was done', async () => {
    const { client } = bot.runtime.bot.app;
    const message = await client.chat.postMessage({
      channel: 'C_INCIDENTS',
      text: 'headline',
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Reopen' },
              action_id: INCIDENT_ACTIONS.reopen,
              value: '1',
            },
          ],
        },
      ],
    });
    await proxy.refuse();
    const since = bot.sim.calls.length;
    const click = await bot.slack.clickButton({ message, actionId: INCIDENT_ACTIONS.reopen });
    expect(click.status).toBe(200);
    expect(click.withinAckDeadline).toBe(true);
    const answer = await bot.sim.waitForCall('chat.postEphemeral', { since });
    expect(String(answer.args.text)).toBe(
      `:warning: ${DATABASE_UNREACHABLE}\nIf it keeps failing, tell the bot's operators.`,
    );
  });
});
