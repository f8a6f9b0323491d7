import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import {
  blockLines,
  blockTexts,
  type HealthFixtures,
  SECRET_NAME,
  startHealthFixtures,
} from '../health-fixtures.ts';

describe('/incident health and the headline’s "Run health check", end to end', () => {
  let fx: HealthFixtures;
  let bot: TestBot;
  let channelId: string;
  let incidentNumber: number;
  beforeAll(async () => {
    fx = await startHealthFixtures();
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: fx.configPath, [SECRET_NAME]: fx.secret } });
    const created = await bot.runtime.bot.app.client.conversations.create({ name: 'inc-health-e2e' });
    channelId = String(created.channel?.id);
    const { incident } = await bot.runtime.services.repos.incidents.declare({
      title: 'Checkout errors',
      severity: 'P1',
      declaredBy: 'U_ALICE',
      affectedServices: ['api', 'worker', 'ghost', 'batch'],
      channelId,
    });
    incidentNumber = incident.number;
  });
  afterAll(async () => {
    await bot?.stop();
    await fx?.close();
  });

  it('checks the affected services, posts the result in the incident channel and records it on the timeline', async () => {
    const since = bot.sim.calls.length;
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'health',
      channelId,
      userId: 'U_BOB',
    });
    expect(res.withinAckDeadline).toBe(true);
    const post = await bot.sim.waitForCall('chat.postMessage', {
      since,
      predicate: (c) => c.args.channel === channelId,
    });
    const texts = blockTexts(post.args.blocks);
    expect(texts[0]).toBe(
      `:red_circle: *Health check for INC-${incidentNumber}*: overall *unhealthy* (run by <@U_BOB>)`,
    );
    const lines = blockLines(post.args.blocks);
    const worker = lines.findIndex((l) => l.includes('*worker* (production) is *unhealthy*'));
    const api = lines.findIndex((l) => l.includes('*api* (production)'));
    expect(worker).toBeGreaterThan(0);
    expect(api).toBeGreaterThan(worker);
    expect(lines[worker + 1]).toMatch(/:red_circle: \*queue\* · \d+m?s — HTTP 503/);
    expect(texts).toContain(':grey_question: Not configured in runbook.yml, not checked: ghost');
    expect(texts).toContain(':grey_question: No health checks configured, not checked: batch (production)');

    // The event is recorded right after the post.
    const event = await vi.waitFor(async () => {
      const events = await bot.runtime.services.repos.timeline.list(incidentNumber);
      const found = events.find((e) => e.kind === 'health_check');
      if (!found) throw new Error('no health_check event yet');
      return found;
    });
    expect(event?.actor).toBe('U_BOB');
    expect(event?.text).toMatch(
      /^Health check: unhealthy\. api \(production\) healthy — 3 of 3 checks healthy/,
    );
    expect(event?.text).toContain(
      'worker (production) unhealthy — 0 of 1 checks healthy; queue unhealthy: HTTP 503',
    );
    expect(event?.data).toMatchObject({
      status: 'unhealthy',
      services: [
        { service: 'api', environment: 'production', status: 'healthy' },
        { service: 'worker', environment: 'production', status: 'unhealthy' },
      ],
      notConfigured: ['ghost'],
      noChecks: ['batch (production)'],
      message: { channelId, ts: post.response.ts },
    });
  });

  it('runs from the headline’s "Run health check" button (value: the incident number)', async () => {
    const headline = await bot.runtime.bot.app.client.chat.postMessage({
      channel: channelId,
      text: 'headline',
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'Run health check' },
              action_id: 'incident_run_health_check',
              value: String(incidentNumber),
            },
          ],
        },
      ],
    });
    const before = await bot.runtime.services.repos.timeline.count(incidentNumber);
    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: headline,
      actionId: 'incident_run_health_check',
      userId: 'U_CAROL',
    });
    const post = await bot.sim.waitForCall('chat.postMessage', {
      since,
      predicate: (c) => c.args.channel === channelId,
    });
    expect(blockTexts(post.args.blocks)[0]).toContain('(run by <@U_CAROL>)');
    await vi.waitFor(async () =>
      expect(await bot.runtime.services.repos.timeline.count(incidentNumber)).toBe(before + 1),
    );
  });

  it('says how to add services when the incident has none', async () => {
    const created = await bot.runtime.bot.app.client.conversations.create({ name: 'inc-health-empty' });
    const emptyChannel = String(created.channel?.id);
    const { incident } = await bot.runtime.services.repos.incidents.declare({
      title: 'Unknown impact',
      severity: 'P2',
      declaredBy: 'U_ALICE',
      channelId: emptyChannel,
    });
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'health',
      channelId: emptyChannel,
    });
    const text = (res.json as { text: string }).text;
    expect(text).toContain(`:warning: INC-${incident.number} has no affected services`);
    expect(text).toContain('then run `/incident health` again');
  });

  it('answers outside an incident channel with how to use it', async () => {
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'health',
      channelId: 'C_GENERAL',
    });
    expect((res.json as { text: string }).text).toContain('works inside an incident');
  });

  it('never shows the header secret in Slack or the logs', () => {
    expect(JSON.stringify(bot.sim.calls)).not.toContain(fx.secret);
    expect(bot.logs.join('')).not.toContain(fx.secret);
  });
});
