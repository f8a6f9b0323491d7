/**
 * The archive timer is durable: scheduled in Postgres with the resolve, so Redis being unreachable
 * changes nothing, and it fires when the (virtual) clock reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { TEST_REDIS_URL } from '../../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

describe('the archive timer when Redis is unreachable', () => {
  let proxy: TcpProxy;
  let bot: IncidentBot;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  beforeAll(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    bot = await startIncidentBot(
      'incidents:\n  archiveAfter: 1h\n',
      { REDIS_URL: proxy.via(TEST_REDIS_URL) },
      { clock },
    );
  });
  afterAll(async () => {
    await proxy?.restore();
    await bot?.stop();
    await proxy?.close();
  });

  it('resolves, schedules archiving in Postgres, and archives an hour later', async () => {
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
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: { resolution: { resolution: 'Reindexed' } },
    });
    await eventually(() =>
      expect(bot.sim.messagesIn(channelId).some((m) => m.text?.includes('will be archived'))).toBe(true),
    );
    expect((await bot.runtime.services.repos.incidents.get(number))?.status).toBe('resolved');

    clock.advance(59 * 60_000);
    await bot.runtime.timers.poll();
    expect(bot.sim.workspace.channels.get(channelId)?.isArchived).toBe(false);
    clock.advance(60_000);
    await bot.runtime.timers.poll();
    expect(bot.sim.workspace.channels.get(channelId)?.isArchived).toBe(true);
    expect(await bot.runtime.services.repos.timers.list({ subject: `incident:${number}` })).toEqual([]);
  });
});
