import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { blockLines, type HealthFixtures, SECRET_NAME, startHealthFixtures } from '../health-fixtures.ts';

describe('/deploy health all names every check that ran', () => {
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

  it('a line per check for the services needing attention, and the healthy ones name their checks too', async () => {
    const since = bot.sim.responses.length;
    await bot.slack.slashCommand({ command: '/deploy', text: 'health all' });
    const answer = await bot.sim.waitForResponse({ since });
    const lines = blockLines(answer.body.blocks);
    // api is healthy: one line, naming its three checks (and the components its health body reported).
    const api = lines.filter((l) => l.startsWith(':large_green_circle: *api* (production)'));
    expect(api).toHaveLength(1);
    expect(api[0]).toMatch(
      /^:large_green_circle: \*api\* \(production\) — all 3 checks healthy: \*api\* \(database, redis, memory\), \*database\*, \*cache\* · \d+(\.\d)?m?s$/,
    );
    // The others: their headline, then a line per check.
    for (const name of ['frontend', 'queue', 'flaky'])
      expect(
        lines.some(
          (l) => l.includes(`:red_circle: *${name}*`) || l.includes(`:large_yellow_circle: *${name}*`),
        ),
      ).toBe(true);
  });
});
