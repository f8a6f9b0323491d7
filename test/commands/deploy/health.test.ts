import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { runTimersUntil, watchesOpened } from '../../helpers/timers.ts';
import {
  actionIds,
  blockLines,
  blockTexts,
  type HealthFixtures,
  MANY_DOWN,
  SECRET_NAME,
  startHealthFixtures,
} from '../health-fixtures.ts';

const EM = '\u2003\u2003';

describe('/deploy health, end to end through the Slack simulator', () => {
  let fx: HealthFixtures;
  let bot: TestBot;
  // Virtual time: a watch's rounds (durable timers, every 10 s at least) follow each other at once.
  const clock = new ManualClock();
  beforeAll(async () => {
    fx = await startHealthFixtures({ manyDown: true });
    bot = await startTestBot({
      env: { RUNBOOK_CONFIG: fx.configPath, [SECRET_NAME]: fx.secret },
      clock,
    });
  });

  /** Runs the watch rounds until a chat.update since `since` says `text`. */
  async function roundsUntil(since: number, text: string) {
    const found = () =>
      bot.sim.callsTo('chat.update').find((c) => c.index >= since && String(c.args.text).includes(text));
    await watchesOpened(bot);
    await runTimersUntil(bot, clock, { stepMs: 10_000, done: () => found() !== undefined, maxSteps: 20 });
    return found()!;
  }
  afterAll(async () => {
    await bot?.stop();
    await fx?.close();
  });
  beforeEach(() => {
    fx.web.mode = 'degraded';
    fx.flaky.failuresLeft = 2;
  });

  async function privateAnswer(text: string) {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command: '/deploy', text });
    expect(res.status).toBe(200);
    expect(res.withinAckDeadline).toBe(true);
    const answer = await bot.sim.waitForResponse({ since });
    expect(answer.outcome).toBe('ephemeral');
    return { ack: res, answer };
  }

  it('acks at once, then answers privately with the overall status first and a line per check, nested checks indented', async () => {
    const { ack, answer } = await privateAnswer('health api');
    expect(ack.body).toBe('');
    const lines = blockLines(answer.body.blocks);
    expect(lines[0]).toMatch(
      /^:large_green_circle: \*api\* \(production\) is \*healthy\* — 3 of 3 checks healthy/,
    );
    expect(lines.slice(1).map((l) => l.replace(/ · \d+(\.\d+)?m?s/, ' · T'))).toEqual([
      ':large_green_circle: *api* · T',
      `${EM}:large_green_circle: *database* · T`,
      `${EM}:large_green_circle: *redis* · T`,
      `${EM}:large_green_circle: *memory*`,
      ':large_green_circle: *database* · T',
      // The hit rate is measured between two checks: the first one says so.
      ':large_green_circle: *cache* · T — hit rate: not enough data yet (it is measured between two checks)',
    ]);
    expect(actionIds(answer.body.blocks)).toEqual(['deploy_health_post']);
  });

  it('says why a check is not healthy and offers to watch; "Post to channel" posts the same result for everyone', async () => {
    const { answer } = await privateAnswer('health web');
    const lines = blockLines(answer.body.blocks);
    expect(lines[0]).toContain('*web* (production) is *degraded*');
    expect(lines[1]).toMatch(/^:large_yellow_circle: \*frontend\* · \d+m?s — /);
    expect(lines[2]).toContain(`${EM}:large_yellow_circle: *database* · 1.2s — Database responding slowly`);
    expect(actionIds(answer.body.blocks)).toEqual(['deploy_health_post', 'deploy_health_watch']);

    fx.web.mode = 'healthy'; // the channel must see what the user saw, not a new check
    const since = bot.sim.responses.length;
    await bot.slack.clickButton({ actionId: 'deploy_health_post', userId: 'U_ALICE' });
    const posted = await bot.sim.waitForResponse({ since });
    expect(posted.outcome).toBe('in_channel');
    const message = bot.sim.messagesIn('C_INCIDENTS').find((m) => m.ts === posted.messageTs);
    expect(message).toBeDefined();
    const postedLines = blockLines(message?.blocks);
    expect(postedLines.slice(0, 3)).toEqual(lines.slice(0, 3));
    expect(blockTexts(message?.blocks)).toContain('Shared by <@U_ALICE>');
    expect(actionIds(message?.blocks)).toEqual([]);
  });

  it('answers an unknown service within the ack, listing the known ones with a did-you-mean', async () => {
    const res = await bot.slack.slashCommand({ command: '/deploy', text: 'health apu' });
    const body = res.json as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(':warning: There is no service "apu".');
    expect(body.text).toContain('Did you mean `/deploy health api`?');
    expect(body.text).toContain('Known services: api, web, worker, flaky, batch,');
  });

  it('says so for a service without health checks, and for bad watch options', async () => {
    const none = await bot.slack.slashCommand({ command: '/deploy', text: 'health batch' });
    expect((none.json as { text: string }).text).toContain('has no health checks: add healthChecks');
    const fast = await bot.slack.slashCommand({ command: '/deploy', text: 'health api --every 10ms' });
    expect((fast.json as { text: string }).text).toContain('`--every 10ms` is too short: the minimum is 10s');
  });

  it('fits `all` with many services into Slack limits, worst first, with "…and N more"', async () => {
    const { answer } = await privateAnswer('health all');
    const blocks = answer.body.blocks as { type: string; text?: { text: string } }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    const texts = blockTexts(blocks);
    expect(texts[0]).toMatch(
      new RegExp(
        `^:red_circle: \\*${MANY_DOWN + 4} services checked\\*: ${MANY_DOWN + 2} unhealthy, 1 degraded, 1 healthy`,
      ),
    );
    expect(texts[1]).toContain('*worker* (production) is *unhealthy*');
    expect(texts.some((t) => /^…and \d+ more services$/.test(t))).toBe(true);
    expect(actionIds(blocks)).toEqual(['deploy_health_post']);
  });

  it('watches a service, updating one channel message in place until healthy, and says how long it took', async () => {
    const since = bot.sim.calls.length;
    const res = await bot.slack.slashCommand({
      command: '/deploy',
      text: 'health flaky --watch --every 10s --for 1m',
      channelId: 'C_DEPLOYMENTS',
    });
    expect(res.withinAckDeadline).toBe(true);
    await bot.sim.waitForCall('chat.postMessage', { since });
    const done = await roundsUntil(since, 'healthy again');
    const posts = bot.sim.callsTo('chat.postMessage').filter((c) => c.index >= since);
    expect(posts).toHaveLength(1);
    const ts = String(posts[0]?.response.ts);
    const updates = bot.sim.callsTo('chat.update').filter((c) => c.index >= since);
    expect(updates.every((c) => c.args.ts === ts && c.args.channel === 'C_DEPLOYMENTS')).toBe(true);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(String(updates[0]?.args.text)).toContain('round 1, still *unhealthy*');
    expect(String(done.args.text)).toContain('*flaky* (production) is healthy again: it took 20s (3 rounds)');
  });

  it('gives up at the deadline and says so', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'health worker --watch --every 10s --for 30s',
    });
    await bot.sim.waitForCall('chat.postMessage', { since });
    const done = await roundsUntil(since, 'Gave up');
    expect(String(done.args.text)).toMatch(
      /Gave up watching \*worker\* \(production\) after .*still \*unhealthy\*/,
    );
  });

  it('"Watch until healthy" starts a watch in the channel', async () => {
    await privateAnswer('health web');
    fx.web.mode = 'healthy';
    const since = bot.sim.calls.length;
    const sinceResponses = bot.sim.responses.length;
    await bot.slack.clickButton({ actionId: 'deploy_health_watch', userId: 'U_ALICE' });
    await bot.sim.waitForCall('chat.postMessage', { since });
    const done = await roundsUntil(since, 'healthy again');
    expect(done.args.channel).toBe('C_INCIDENTS');
    const told = await bot.sim.waitForResponse({ since: sinceResponses });
    expect(String(told.body.text)).toContain('Watching *web* (production)');
  });

  it('"Stop watching" on the watch message stops it (for whoever clicks, on any replica): no round after it', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'health worker --watch --every 10s --for 5m',
      channelId: 'C_DEPLOYMENTS',
    });
    const posted = await bot.sim.waitForCall('chat.postMessage', { since });
    expect(actionIds(posted.args.blocks as never)).toEqual(['deploy_health_watch_stop']);
    await watchesOpened(bot);
    await bot.runtime.timers.poll();
    clock.advance(10_000);
    await bot.runtime.timers.poll();
    // Round updates go through the rate limiter (one a second per message, the latest wins).
    const round2 = await bot.sim.waitForCall('chat.update', {
      since,
      predicate: (c) => String(c.args.text).includes('round 2, still'),
    });
    expect(actionIds(round2.args.blocks as never)).toEqual(['deploy_health_watch_stop']);

    await bot.slack.clickButton({
      actionId: 'deploy_health_watch_stop',
      channelId: 'C_DEPLOYMENTS',
      ts: String(posted.response.ts),
      userId: 'U_BOB',
    });
    const stopped = await bot.sim.waitForCall('chat.update', {
      since,
      predicate: (c) => String(c.args.text).includes('stopped watching'),
    });
    expect(String(stopped.args.text)).toMatch(
      /<@U_BOB> stopped watching \*worker\* \(production\) after 2 rounds; last status \*unhealthy\*/,
    );
    expect(await bot.runtime.services.healthWatches.running()).toEqual([]);
    const after = bot.sim.calls.length;
    await runTimersUntil(bot, clock, { stepMs: 10_000, done: () => false, maxSteps: 3 }).catch(() => {});
    expect(bot.sim.callsTo('chat.update').filter((c) => c.index >= after)).toEqual([]);
  });

  it('never shows the header secret in Slack or the logs', () => {
    expect(JSON.stringify(bot.sim.calls)).not.toContain(fx.secret);
    expect(JSON.stringify(bot.sim.responses)).not.toContain(fx.secret);
    expect(bot.logs.join('')).not.toContain(fx.secret);
  });
});
