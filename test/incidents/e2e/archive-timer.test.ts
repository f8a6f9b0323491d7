/**
 * Resolving with Redis unreachable: the resolve stands (Postgres), and whoever resolved is told that
 * archiving the channel could not be scheduled, with its date; reopening still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

describe('the archive timer when Redis is unreachable', () => {
  let proxy: TcpProxy;
  let bot: IncidentBot;
  beforeAll(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    bot = await startIncidentBot('incidents:\n  archiveAfter: 1h\n', {
      REDIS_URL: proxy.via(TEST_REDIS_URL),
    });
  });
  afterAll(async () => {
    await proxy?.restore();
    await bot?.stop();
    await proxy?.close();
  });

  it('resolves, and tells the resolver which step failed', async () => {
    const answer = await bot.command('declare P2 Search is slow');
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    if (!incident?.channelId || !incident.headline) throw new Error(`not declared: ${answer}`);
    const channelId = incident.channelId;

    const since = bot.sim.calls.length;
    await bot.slack.clickButton({
      message: { channelId, ts: incident.headline.ts },
      actionId: 'incident_resolve',
    });
    const opened = await bot.sim.waitForCall('views.open', { since });
    await proxy.refuse();
    const sinceSubmit = bot.sim.calls.length;
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: { resolution: { resolution: 'Reindexed' } },
    });
    const told = await bot.sim.waitForCall('chat.postEphemeral', {
      since: sinceSubmit,
      predicate: (c) => String(c.args.text).includes('schedule archiving the channel'),
    });
    expect(String(told.args.text)).toContain(`INC-${number} is recorded`);
    expect(String(told.args.text)).toMatch(
      /could not schedule archiving the channel \(.+\) \(`redis_unreachable`/,
    );
    const resolved = await bot.runtime.services.repos.incidents.get(number);
    expect(resolved?.status).toBe('resolved');
    // No archive notice: nothing was scheduled.
    expect(bot.sim.messagesIn(channelId).some((m) => m.text?.includes('will be archived'))).toBe(false);

    const reopened = await bot.command(`reopen INC-${number}`);
    expect(reopened).toContain('reopened');
    await eventually(async () =>
      expect((await bot.runtime.services.repos.incidents.get(number))?.status).toBe('investigating'),
    );
  });
});
