import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HealthFixtures, SECRET_NAME, startHealthFixtures } from '../../commands/health-fixtures.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';

describe('health watches at shutdown', () => {
  let fx: HealthFixtures;
  let bot: TestBot;
  beforeAll(async () => {
    fx = await startHealthFixtures();
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: fx.configPath, [SECRET_NAME]: fx.secret } });
  });
  afterAll(async () => {
    await bot?.stop();
    await fx?.close();
  });

  it('refuses a second watch of the same service in a channel, and stops watches when the bot stops, saying so', async () => {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'health worker --watch --every 10s --for 1h',
    });
    await bot.sim.waitForCall('chat.update', { since });
    expect(bot.runtime.services.healthWatches.size).toBe(1);

    const sinceResponses = bot.sim.responses.length;
    await bot.slack.slashCommand({ command: '/deploy', text: 'health worker --watch' });
    const told = await bot.sim.waitForResponse({ since: sinceResponses });
    expect(String(told.body.text)).toContain(
      ':warning: *worker* (production) is already being watched in this channel',
    );

    await bot.runtime.stop();
    expect(bot.runtime.services.healthWatches.size).toBe(0);
    const last = bot.sim.lastCall('chat.update');
    expect(String(last?.args.text)).toMatch(
      /Stopped watching \*worker\* \(production\) after \d+ rounds? \(the bot is shutting down\)/,
    );
  });
});
