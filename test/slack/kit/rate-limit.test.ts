/**
 * The bot's message updates stay under Slack's rate tiers: watches are at most every 10 s, a burst
 * of headline refreshes becomes a few chat.update calls with the final state, the global budget
 * stays below Tier 3, and a 429's Retry-After is waited out.
 */
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';
import { headlineFor } from '../../../src/slack/incidents/incident-slack.ts';
import { SlackRateLimiter } from '../../../src/slack/kit/rate-limit.ts';
import { type HealthFixtures, SECRET_NAME, startHealthFixtures } from '../../commands/health-fixtures.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { duplicateKeys } from '../../helpers/json-keys.ts';
import { runTimersUntil, watchesOpened } from '../../helpers/timers.ts';
import { eventually } from '../../incidents/e2e/helpers.ts';

async function declare(bot: TestBot, title: string): Promise<number> {
  const since = bot.sim.responses.length;
  await bot.slack.slashCommand({
    command: '/incident',
    text: `declare P2 ${title}`,
    channelId: 'C_INCIDENTS',
  });
  const answer = await bot.sim.waitForResponse({ since });
  const number = Number(/INC-(\d+)/.exec(String(answer.body.text))?.[1]);
  expect(number).toBeGreaterThan(0);
  return number;
}

describe('Slack rate tiers, end to end', () => {
  let fx: HealthFixtures;
  let bot: TestBot;
  // Virtual time for watches (their rounds are durable timers): ten minutes of rounds take a moment.
  const clock = new ManualClock();
  beforeAll(async () => {
    fx = await startHealthFixtures();
    bot = await startTestBot({
      env: { RUNBOOK_CONFIG: fx.configPath, [SECRET_NAME]: fx.secret },
      clock,
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await fx?.close();
  });

  it('refuses `--watch --every 100ms`: the minimum is 10s, and nothing is posted', async () => {
    const since = bot.sim.calls.length;
    const res = await bot.slack.slashCommand({
      command: '/deploy',
      text: 'health worker --watch --every 100ms',
    });
    expect((res.json as { text: string }).text).toContain('`--every 100ms` is too short: the minimum is 10s');
    expect(bot.sim.calls.slice(since).filter((c) => c.method.startsWith('chat.'))).toEqual([]);
    expect(await bot.runtime.services.healthWatches.running()).toEqual([]);
  });

  it('a 10-minute watch of 60 rounds updates its message a bounded number of times, ending with the verdict', async () => {
    const since = bot.sim.calls.length;
    const started = performance.now();
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'health worker --watch --every 10s --for 10m',
      channelId: 'C_DEPLOYMENTS',
    });
    await bot.sim.waitForCall('chat.postMessage', { since });
    await watchesOpened(bot);
    const gaveUp = () =>
      bot.sim.callsTo('chat.update').find((c) => c.index >= since && String(c.args.text).includes('Gave up'));
    await runTimersUntil(bot, clock, { stepMs: 10_000, done: () => gaveUp() !== undefined, maxSteps: 70 });
    const done = gaveUp()!;
    const elapsedMs = performance.now() - started;
    expect(String(done.args.text)).toMatch(
      /Gave up watching \*worker\* \(production\) after 9m 50s \(60 rounds\)/,
    );
    const updates = bot.sim.callsTo('chat.update').filter((c) => c.index >= since);
    // One update a second for the message at most, plus the last word: not one per round.
    expect(updates.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 1_000));
    expect(updates.length).toBeLessThan(60);
    expect(updates.at(-1)?.index).toBe(done.index);
    expect(updates.every((c) => c.httpStatus === 200)).toBe(true);
  });

  it('20 rapid severity changes of one incident: a few chat.update calls per message, with the final state', async () => {
    const number = await declare(bot, 'Checkout flapping');
    const { services } = bot.runtime;
    const declared = await services.repos.incidents.get(number);
    const headline = declared?.headline;
    const announcement = declared?.announcement;
    if (!headline || !announcement || !declared?.channelId) throw new Error('incident not set up in Slack');
    expect(headline.ts).not.toBe(announcement.ts);

    const since = bot.sim.calls.length;
    const sinceResponses = bot.sim.responses.length;
    const started = performance.now();
    const severities = ['P1', 'P3', 'P0', 'P2'];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        bot.slack.slashCommand({
          command: '/incident',
          text: `severity INC-${number} ${severities[i % 4]} change ${i}`,
          channelId: declared.channelId ?? 'C_INCIDENTS',
        }),
      ),
    );
    await eventually(() => expect(bot.sim.responses.length - sinceResponses).toBeGreaterThanOrEqual(20));
    await services.slackRate.idle();
    const elapsedMs = performance.now() - started;
    for (const r of bot.sim.responses.slice(sinceResponses))
      expect(String(r.body.text)).not.toContain('could not');

    const changes = bot.sim
      .callsTo('chat.postMessage')
      .filter((c) => c.index >= since && c.args.channel === declared.channelId).length;
    expect(changes).toBeGreaterThanOrEqual(5);
    const final = await services.repos.incidents.get(number);
    if (!final) throw new Error('incident gone');
    const expected = await headlineFor(services, final);
    for (const ref of [headline, announcement]) {
      const updates = bot.sim
        .callsTo('chat.update')
        .filter((c) => c.index >= since && c.args.ts === ref.ts && c.args.channel === ref.channelId);
      expect(updates.length).toBeGreaterThanOrEqual(1);
      expect(updates.length).toBeLessThan(changes);
      expect(updates.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 1_000));
      expect(bot.sim.workspace.findMessage(ref.channelId, ref.ts)?.text).toBe(expected.text);
    }
    expect(String(bot.sim.workspace.findMessage(headline.channelId, headline.ts)?.text)).toContain(
      final.severity,
    );
    // The topic too, set only when it changes.
    const topics = bot.sim.callsTo('conversations.setTopic').filter((c) => c.index >= since);
    expect(topics.length).toBeLessThan(changes);
  });

  it('/metrics is not served on the public port when neither METRICS_TOKEN nor METRICS_PORT is set', async () => {
    const res = await fetch(`${bot.runtime.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('runbook_');
  });

  it('writes no log line with a key twice', () => {
    expect(bot.logs.length).toBeGreaterThan(20);
    expect(bot.logs.some((l) => l.includes('"msg":"health checked"'))).toBe(true);
    for (const line of bot.logs) expect(duplicateKeys(line), line).toEqual([]);
  });
});

describe('Retry-After', () => {
  let bot: TestBot;
  beforeAll(async () => {
    // chat.update limited to one call a second: the second of two updates is refused with 429.
    bot = await startTestBot({
      simulator: { rateLimits: { windowMs: 1_000, limits: { 'chat.update': 1 } } },
    });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('a 429 from Slack is waited out (Retry-After), then the update goes through', async () => {
    const number = await declare(bot, 'Search slow');
    const { services } = bot.runtime;
    const incident = await services.repos.incidents.get(number);
    if (!incident?.headline || !incident.announcement) throw new Error('incident not set up in Slack');
    const since = bot.sim.calls.length;
    const sinceResponses = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: `severity INC-${number} P1 getting worse`,
      channelId: incident.channelId ?? 'C_INCIDENTS',
    });
    await bot.sim.waitForResponse({ since: sinceResponses });
    await services.slackRate.idle(10_000);

    const updates = bot.sim.callsTo('chat.update').filter((c) => c.index >= since);
    const limited = updates.find((c) => c.httpStatus === 429);
    expect(limited?.response).toEqual({ ok: false, error: 'ratelimited' });
    // Nothing more went to chat.update before the Retry-After (1 s) had passed.
    const after = updates.filter((c) => c.index > (limited?.index ?? 0));
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const c of after) expect(c.at - (limited?.at ?? 0)).toBeGreaterThanOrEqual(990);
    const final = await services.repos.incidents.get(number);
    if (!final) throw new Error('incident gone');
    const expected = await headlineFor(services, final);
    for (const ref of [incident.headline, incident.announcement]) {
      expect(bot.sim.workspace.findMessage(ref.channelId, ref.ts)?.text).toBe(expected.text);
      expect(
        updates.filter((c) => c.args.ts === ref.ts && c.httpStatus === 200).length,
        `${ref.ts} updated`,
      ).toBe(1);
    }
    const metrics = await services.metrics.registry.metrics();
    expect(metrics).toMatch(/runbook_slack_api_errors_total\{method="chat.update",error="rate_limited"\} 1/);
  });
});

describe('SlackRateLimiter budget', () => {
  let sim: SlackSimulator;
  beforeAll(async () => {
    sim = await startSlackSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('updates of 60 messages at once: 45 go out now, the rest wait for the sliding minute (Tier 3 is 50)', async () => {
    const client = new WebClient(sim.botToken, { slackApiUrl: sim.apiUrl });
    const limiter = new SlackRateLimiter();
    const messages = [];
    for (let i = 0; i < 60; i++) {
      const posted = await client.chat.postMessage({ channel: 'C_GENERAL', text: `m${i}` });
      messages.push(String(posted.ts));
    }
    const since = sim.calls.length;
    const first = messages.slice(0, 45).map((ts) =>
      limiter.updateMessage(client, { channel: 'C_GENERAL', ts }, () => ({
        channel: 'C_GENERAL',
        ts,
        text: 'updated',
      })),
    );
    for (const ts of messages.slice(45))
      void limiter.updateMessage(client, { channel: 'C_GENERAL', ts }, () => ({
        channel: 'C_GENERAL',
        ts,
        text: 'updated',
      }));
    await Promise.all(first);
    expect(limiter.stats('chat.update')).toEqual({ submitted: 60, started: 45 });
    const updates = sim.callsTo('chat.update').filter((c) => c.index >= since);
    expect(updates).toHaveLength(45);
    expect(updates.every((c) => c.httpStatus === 200)).toBe(true);
  });

  it('updates of one message: at most one in flight, the latest wins', async () => {
    const client = new WebClient(sim.botToken, { slackApiUrl: sim.apiUrl });
    const limiter = new SlackRateLimiter();
    const posted = await client.chat.postMessage({ channel: 'C_INCIDENTS', text: 'v0' });
    const ts = String(posted.ts);
    const since = sim.calls.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.updateMessage(client, { channel: 'C_INCIDENTS', ts }, () => ({
          channel: 'C_INCIDENTS',
          ts,
          text: `v${i + 1}`,
        })),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const updates = sim.callsTo('chat.update').filter((c) => c.index >= since);
    expect(updates.map((c) => c.args.text)).toEqual(['v1', 'v20']);
    expect(sim.workspace.findMessage('C_INCIDENTS', ts)?.text).toBe('v20');
  });
});
