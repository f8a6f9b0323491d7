/**
 * `/incident stats` end to end (signed Slack requests to the real bot, real Postgres through a TCP
 * proxy), and a scrape of /metrics, over the fixture's incidents and operations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ManualClock } from '../../src/clock.ts';
import { DATABASE_UNREACHABLE } from '../../src/slack/kit/unavailable.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { type IncidentBot, startIncidentBot } from '../incidents/e2e/helpers.ts';
import { FIXTURE_CONFIG, insertFixture, NOW } from './fixture.ts';

const METRICS_TOKEN = 'stats-metrics-token-0123456789';

describe('/incident stats and /metrics', () => {
  let proxy: TcpProxy;
  let bot: IncidentBot;

  beforeAll(async () => {
    const postgres = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    bot = await startIncidentBot(
      stringify(FIXTURE_CONFIG),
      { DATABASE_URL: proxy.via(TEST_DATABASE_URL), METRICS_TOKEN },
      { clock: new ManualClock(NOW) },
    );
    await insertFixture(bot.runtime.services.db);
  });

  afterAll(async () => {
    await proxy?.restore();
    await bot?.stop();
    await proxy?.close();
  });

  async function statsAnswer(text: string): Promise<{ text: string; blocks: string }> {
    const since = bot.sim.responses.length;
    await bot.slack.slashCommand({ command: '/incident', text, userId: 'U_ALICE', channelId: 'C_OPS' });
    const response = await bot.sim.waitForResponse({ since });
    return { text: String(response.body.text ?? ''), blocks: JSON.stringify(response.body.blocks ?? []) };
  }

  it('answers with the figures per severity, the deploy figures and the error budget with a bar', async () => {
    const { text, blocks } = await statsAnswer('stats');
    expect(text).toContain('*Incident stats* since <!date^');
    expect(text).toContain('(30d): 4 incidents, 1 open');
    expect(blocks).toContain('*Time to acknowledge*\\n12m 30s (median 12m 30s, 2)');
    expect(blocks).toContain('*Time to resolve*\\n1h 20m (median 1h, 3)');
    expect(blocks).toContain('*Updates on time*\\n2 of 4 (50 %)');
    expect(blocks).toContain('*P0*: 1 incident');
    expect(blocks).toContain('*Escalations*\\n2 (1 incident)');
    expect(blocks).toContain('change failure rate 60 % (3 of 5)');
    expect(blocks).toContain('5 ran, 4 succeeded · 0.9 a week (0.13 a day)');
    expect(blocks).toContain('*Error budget, 2026-12*');
    expect(blocks).toContain(
      ':red_circle: `██████████` *barq-api* (SLO 99.9 %): 180.0 min of 43.8 min spent, *over by 136.2 min*',
    );
    expect(blocks).toContain('*fleet-api* (SLO 99.5 %): 120.0 min of 219.2 min spent, 99.2 min left');
  });

  it('narrows to one service and a shorter period', async () => {
    const { text, blocks } = await statsAnswer('stats --since 7d fleet-api');
    expect(text).toContain('*Incident stats for *fleet-api** since');
    expect(text).toContain('(7d): 1 incident, 1 open');
    expect(blocks).not.toContain('barq-api');
    const bare = await statsAnswer('stats fleet-api 7d');
    expect(bare.text).toContain('*Incident stats for *fleet-api** since');
    expect(bare.text).toContain('(7d): 1 incident, 1 open');
  });

  it('refuses a bad duration and an unknown service, escaped, saying how to write it', async () => {
    const bad = await statsAnswer('stats --since 3 weeks');
    expect(bad.text).toContain(':warning: `--since 3` is not a duration');
    expect(bad.text).toContain('/incident stats [--since 30d] [service]');
    const unknown = await statsAnswer('stats <!channel>');
    expect(unknown.text).toContain('`&lt;!channel&gt;` is not a service of this bot');
    expect(unknown.text).not.toContain('<!channel>');
    const close = await statsAnswer('stats barq-apl');
    expect(close.text).toContain('did you mean `barq-api`?');
  });

  it('serves the figures on /metrics', async () => {
    const res = await fetch(`${bot.runtime.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(
      'runbook_incident_time_to_acknowledge_seconds_count{severity="P0",service="barq-api"} 1',
    );
    expect(text).toContain(
      'runbook_incident_time_to_acknowledge_seconds_sum{severity="P0",service="barq-api"} 300',
    );
    expect(text).toContain(
      'runbook_incident_time_to_resolve_seconds_sum{severity="P1",service="barq-api"} 10800',
    );
    expect(text).toContain('runbook_incident_escalations_total{severity="P0",service="barq-api"} 2');
    expect(text).toContain(
      'runbook_deploy_changes_total{service="barq-api",environment="production",kind="restart",outcome="succeeded"} 1',
    );
    expect(text).toContain(
      'runbook_deploy_changes_total{service="barq-api",environment="staging",kind="restart",outcome="succeeded"} 1',
    );
    expect(text).toContain(
      'runbook_deploy_change_failure_ratio{service="fleet-api",environment="production"} 0.5',
    );
    expect(text).toMatch(/runbook_error_budget_remaining_minutes\{service="barq-api"\} -136\.17\d*/);
    expect(text).toContain('runbook_error_budget_spent_minutes{service="fleet-api"} 120');
  });

  it('tells the user plainly when the database is unreachable', async () => {
    await proxy.refuse();
    const { text } = await statsAnswer('stats');
    expect(text).toBe(DATABASE_UNREACHABLE);
  });
});
