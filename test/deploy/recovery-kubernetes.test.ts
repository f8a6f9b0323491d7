import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { SlackRequestClient } from '../../src/local/slack/client.ts';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import { CONFIRM_DEPLOY_ACTION } from '../../src/slack/deploy/blocks/card.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';
import { spawnBotProcess } from '../helpers/spawn-bot.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { until } from '../helpers/until.ts';
import { type KubeSetup, patchCount, startKubeSetup } from './helpers.ts';

/** A clock `ms` ahead of the wall clock: a replica that starts once a crashed runner's lease ran out. */
const ahead = (ms: number): Clock => ({ now: () => new Date(Date.now() + ms) });

/**
 * /deploy rollback on the Kubernetes fake when things go wrong around it: the bot killed while it
 * verifies (another replica resumes or marks it interrupted), a card nobody confirms (expires), and
 * Redis down (Postgres alone keeps one operation per service).
 */
describe('/deploy rollback recovery on Kubernetes, end to end', () => {
  let kube: KubeSetup;
  let health: Server;
  let healthStatus = 200;
  let bot: TestBot;

  beforeAll(async () => {
    health = createServer((_req, res) => {
      res.writeHead(healthStatus, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/ping`;
    kube = await startKubeSetup([
      `    healthChecks: [{ type: http, name: api-ping, url: "${healthUrl}", expectBody: any }]`,
      'deploy: { windows: { production: [] }, verifyTimeout: 60s, settleTimeout: { kubernetes: 20s } }',
    ]);
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: kube.configPath } });
  });

  afterAll(async () => {
    await bot?.stop();
    await kube?.close();
    await new Promise((r) => health?.close(r));
  });

  const current = (m: SimMessage) => bot.sim.messagesIn(m.channel).find((x) => x.ts === m.ts) ?? m;

  async function requestCard(): Promise<SimMessage> {
    const since = bot.sim.messagesIn('C_GENERAL').length;
    const res = await bot.slack.slashCommand({
      command: '/deploy',
      text: 'rollback barq-api because errors',
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    expect(res.withinAckDeadline).toBe(true);
    return until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
  }

  /** Confirms the card on a bot process, waits until it verifies, and kills the process. */
  async function confirmThenCrashWhileVerifying(card: SimMessage): Promise<void> {
    const proc = await spawnBotProcess({
      sim: bot.sim,
      schema: bot.schema,
      keyPrefix: bot.keyPrefix,
      signingSecret: bot.signingSecret,
      configPath: kube.configPath,
    });
    const slack = new SlackRequestClient({
      botUrl: `${proc.url}/slack/events`,
      signingSecret: bot.signingSecret,
      simulator: bot.sim,
    });
    try {
      healthStatus = 503;
      await slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
      await until('the card to say verifying', () =>
        current(card).text.includes('verifying') ? true : undefined,
      );
    } finally {
      await proc.signal('SIGKILL');
      slack.close();
    }
  }

  it('killed while verifying, the target shown: another replica resumes verification and finishes it', async () => {
    const card = await requestCard();
    await confirmThenCrashWhileVerifying(card);
    const patches = patchCount(kube.fake);
    healthStatus = 200;
    const replica = await startTestBot({
      replicaOf: bot,
      env: { RUNBOOK_CONFIG: kube.configPath },
      clock: ahead(60_000),
    });
    try {
      const done = await until('the final line', () => {
        const m = current(card);
        return /verified healthy|could not|interrupted/.test(m.text) ? m : undefined;
      });
      expect(done.text).toMatch(/barq-api rolled back from `\d+` to `\d+` in \d+ s; verified healthy/);
      // Resumed, not re-run.
      expect(patchCount(kube.fake)).toBe(patches);
    } finally {
      await replica.stop();
    }
  });

  it('killed while verifying, the target gone: the replica marks it interrupted and says so', async () => {
    await kube.fake.deploy('registry.example.com/app:v3');
    const card = await requestCard();
    await confirmThenCrashWhileVerifying(card);
    // Meanwhile someone else ships another image: the platform no longer shows the target.
    await kube.fake.deploy('registry.example.com/app:v4');
    const patches = patchCount(kube.fake);
    const channelBefore = bot.sim.messagesIn('C_GENERAL').length;
    const replica = await startTestBot({
      replicaOf: bot,
      env: { RUNBOOK_CONFIG: kube.configPath },
      clock: ahead(60_000),
    });
    try {
      const done = await until('the final line', () => {
        const m = current(card);
        return /verified healthy|could not|interrupted/.test(m.text) ? m : undefined;
      });
      expect(done.text).toContain('interrupted');
      expect(done.text).toContain('does not show the target: nothing was re-run');
      const said = await until('the channel told', () =>
        bot.sim
          .messagesIn('C_GENERAL')
          .slice(channelBefore)
          .find((m) => m.text.includes('interrupted') && m.ts !== card.ts),
      );
      expect(said.text).toContain('barq-api');
      expect(patchCount(kube.fake)).toBe(patches);
    } finally {
      await replica.stop();
      healthStatus = 200;
    }
  });

  it('an unconfirmed card expires: the card says so, its buttons go, and nothing changes', async () => {
    const card = await requestCard();
    const patches = patchCount(kube.fake);
    // A replica whose clock is past deploy.confirmTimeout (15 min) sweeps at start-up.
    const replica = await startTestBot({
      replicaOf: bot,
      env: { RUNBOOK_CONFIG: kube.configPath },
      clock: ahead(16 * 60_000),
    });
    try {
      const done = await until('the card to expire', () =>
        current(card).text.includes('expired') ? current(card) : undefined,
      );
      expect(done.text).toContain('not confirmed in time; the card expired and nothing was changed');
      expect(JSON.stringify(done.blocks)).not.toContain(CONFIRM_DEPLOY_ACTION);
    } finally {
      await replica.stop();
    }
    const [op] = await bot.runtime.services.repos.operations.listRecent({
      service: 'barq-api',
      environment: 'production',
      limit: 1,
    });
    expect(op?.state).toBe('expired');
    expect(patchCount(kube.fake)).toBe(patches);
  });
});

describe('/deploy rollback with Redis down', () => {
  let kube: KubeSetup;
  let proxy: TcpProxy;
  let bot: TestBot;
  let replica: TestBot;

  beforeAll(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    kube = await startKubeSetup();
    const env = { RUNBOOK_CONFIG: kube.configPath, REDIS_URL: proxy.via(TEST_REDIS_URL) };
    bot = await startTestBot({ env });
    replica = await startTestBot({ replicaOf: bot, env });
  });

  afterAll(async () => {
    await proxy?.restore();
    await replica?.stop();
    await bot?.stop();
    await proxy?.close();
    await kube?.close();
  });

  it('two requests at once on two replicas: one card, the other told who holds the service (Postgres)', async () => {
    await proxy.refuse();
    const since = bot.sim.messagesIn('C_GENERAL').length;
    const responses = bot.sim.responses.length;
    await Promise.all([
      bot.slack.slashCommand({
        command: '/deploy',
        text: 'rollback barq-api',
        userId: 'U_ALICE',
        channelId: 'C_GENERAL',
      }),
      replica.slack.slashCommand({
        command: '/deploy',
        text: 'rollback barq-api',
        userId: 'U_BOB',
        channelId: 'C_GENERAL',
      }),
    ]);
    await until('both answers', () => (bot.sim.responses.length - responses >= 2 ? true : undefined));
    const texts = bot.sim.responses.slice(responses).map((r) => String((r.body as { text?: string }).text));
    expect(texts.filter((t) => t.includes('only you can confirm'))).toHaveLength(1);
    expect(texts.filter((t) => /holds barq-api \(production\)/.test(t))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    const cards = bot.sim
      .messagesIn('C_GENERAL')
      .slice(since)
      .filter((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION));
    expect(cards).toHaveLength(1);
  });
});
