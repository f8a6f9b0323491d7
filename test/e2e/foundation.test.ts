import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBot, type TestBot } from '../helpers/bot.ts';

const METRICS_TOKEN = 'foundation-metrics-token-3f9a';
const withToken = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };

describe('the bot, end to end through signed Slack requests', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startTestBot({ env: { METRICS_TOKEN } });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  it('answers a signed `/incident help` with the list of subcommands, ephemerally, within the ack', async () => {
    const res = await bot.slack.slashCommand({ command: '/incident', text: 'help' });
    expect(res.status).toBe(200);
    const body = res.json as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('/incident help');
  });

  it('answers an empty `/deploy` with its help', async () => {
    const res = await bot.slack.slashCommand({ command: '/deploy', text: '' });
    expect((res.json as { text: string }).text).toContain('/deploy commands');
  });

  it('suggests the closest subcommand for a typo', async () => {
    const res = await bot.slack.slashCommand({ command: '/incident', text: 'hlep me' });
    const body = res.json as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('`/incident hlep` is not a /incident subcommand');
    expect(body.text).toContain('Did you mean `/incident help`');
  });

  it('refuses a bad signature with 401 and runs no handler', async () => {
    const before = bot.sim.calls.length;
    const handledBefore = await metricValue(bot, 'runbook_requests_total');
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'help',
      signatureOverride: 'v0=0000000000000000000000000000000000000000000000000000000000000000',
    });
    expect(res.status).toBe(401);
    expect(res.body).not.toContain('/incident help');
    expect(await metricValue(bot, 'runbook_requests_total')).toBe(handledBefore);
    expect(bot.sim.calls.length).toBe(before);
  });

  it('refuses a tampered body with 401', async () => {
    const res = await bot.slack.slashCommand({
      command: '/incident',
      text: 'help',
      tamperedBody: 'command=%2Fincident&text=declare+P0+forged&user_id=U_EVE',
    });
    expect(res.status).toBe(401);
  });

  it('refuses a timestamp more than 5 minutes old with 401', async () => {
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    const res = await bot.slack.slashCommand({ command: '/incident', text: 'help', timestamp: stale });
    expect(res.status).toBe(401);
  });

  it('serves liveness, readiness in the runbooks’ health format, and Prometheus metrics', async () => {
    const live = await fetch(`${bot.runtime.url}/health`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${bot.runtime.url}/health/readiness`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      checks: Record<string, { status: string; latency: number }>;
    };
    expect(body.status).toBe('healthy');
    expect(body.checks.database?.status).toBe('ok');
    expect(body.checks.coordination?.status).toBe('ok');
    expect(typeof body.checks.database?.latency).toBe('number');
    const metrics = await (await fetch(`${bot.runtime.url}/metrics`, withToken)).text();
    expect(metrics).toMatch(
      /runbook_requests_total\{command="\/incident",subcommand="help",outcome="ok"\} \d+/,
    );
    expect(metrics).toContain('runbook_handler_duration_seconds_bucket');
  });

  it('counts events and other interactions in runbook_interactions_total', async () => {
    const sent = await bot.slack.sendEvent({
      type: 'reaction_added',
      user: 'U_ALICE',
      reaction: 'thumbsup',
      item_user: 'U_BOB',
      item: { type: 'message', channel: bot.sim.defaultChannelId, ts: '1700000000.000100' },
      event_ts: `${Math.floor(Date.now() / 1000)}.000200`,
    });
    expect(sent.status).toBe(200);
    await expect
      .poll(async () => (await fetch(`${bot.runtime.url}/metrics`, withToken)).text())
      .toMatch(/runbook_interactions_total\{kind="event",action="reaction_added",outcome="ok"\} 1/);
  });

  it('never logs the bot token or the signing secret', () => {
    const all = bot.logs.join('');
    expect(all).not.toContain(bot.sim.botToken);
    expect(all).not.toContain(bot.signingSecret);
  });
});

async function metricValue(bot: TestBot, name: string): Promise<number> {
  const text = await (await fetch(`${bot.runtime.url}/metrics`, withToken)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}
