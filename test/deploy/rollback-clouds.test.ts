import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppServiceFake, startAppServiceFake } from '../../src/local/platforms/appservice/server.ts';
import { type CloudRunFake, startCloudRunFake } from '../../src/local/platforms/cloudrun/server.ts';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import { CONFIRM_DEPLOY_ACTION, ROLLBACK_FURTHER_ACTION } from '../../src/slack/deploy/blocks/card.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';

const V1 = 'registry.example.com/app:v1';
const V2 = 'registry.example.com/app:v2';

/**
 * `/deploy rollback` + Confirm end to end through signed Slack requests, on the Cloud Run fake and
 * the App Service fake (the real SDK adapters over their wire protocols): success, a target that
 * never settles, a verification that stays red, a platform error, and a guest refused.
 */
describe('/deploy rollback on Cloud Run and App Service, end to end', () => {
  /** One fake per scenario (no test depends on another's leftovers), by service name. */
  const cloudruns = new Map<string, CloudRunFake>();
  const appservices = new Map<string, AppServiceFake>();
  const agents = new Map<string, Agent>();
  const pause = () => new Promise((r) => setTimeout(r, 30));
  let health: Server;
  let dir: string;
  let bot: TestBot;
  /** The status code each service's health endpoint answers with. */
  const healthStatus: Record<string, number> = {};

  beforeAll(async () => {
    health = createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? '').split('/')[1] ?? '');
      res.writeHead(healthStatus[name] ?? 404, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
    const lines: string[] = ['services:'];
    const check = (name: string) =>
      `    healthChecks: [{ type: http, name: ${name}-ping, url: "${healthUrl}/${name}/ping", expectBody: any }]`;
    for (const name of ['barq-api', 'barq-red', 'barq-denied', 'barq-guest']) {
      const fake = await startCloudRunFake({ reconcileMs: 5, service: name });
      await fake.deploy(V1);
      await pause();
      await fake.deploy(V2);
      cloudruns.set(name, fake);
      healthStatus[name] = 200;
      lines.push(
        `  - name: ${name}`,
        `    platform: { kind: cloudrun, project: ${fake.project}, region: ${fake.region}, service: ${fake.service}, endpoint: "${fake.url}" }`,
        '    scaling: { min: 0, max: 20 }',
        check(name),
      );
    }
    for (const name of ['fleet-api', 'fleet-broken']) {
      const fake = await startAppServiceFake({ warmupMs: 20, app: name });
      await fake.deploy(V1);
      await pause();
      await fake.deploy(V2);
      appservices.set(name, fake);
      agents.set(name, new Agent({ ca: fake.certificate, keepAlive: true }));
      healthStatus[name] = 200;
      lines.push(
        `  - name: ${name}`,
        `    platform: { kind: appservice, subscriptionId: ${fake.subscriptionId}, resourceGroup: ${fake.resourceGroup}, app: ${fake.app}, slot: ${fake.slot}, endpoint: "${fake.url}" }`,
        '    scaling: { min: 1, max: 10 }',
        check(name),
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'deploy-clouds-'));
    const configPath = join(dir, 'runbook.yml');
    lines.push(
      'approvals: { production: { required: 0, fromGroups: [] } }',
      'deploy: { windows: { production: [] }, verifyTimeout: 2s, settleTimeout: { cloudrun: 3s, appservice: 3s } }',
      '',
    );
    writeFileSync(configPath, lines.join('\n'));
    bot = await startTestBot({
      env: { RUNBOOK_CONFIG: configPath },
      platformAdapters: {
        cloudrun: async (service) => {
          const authClient = new OAuth2Client();
          authClient.setCredentials({
            access_token: cloudruns.get(service.name)?.accessToken ?? '',
            expiry_date: Date.now() + 3_600_000,
          });
          return { authClient, retry: { baseDelayMs: 1 }, operationPollMs: 5 };
        },
        appservice: async (service) => ({
          credential: {
            getToken: async () => ({
              token: appservices.get(service.name)?.token ?? '',
              expiresOnTimestamp: Date.now() + 3_600_000,
            }),
          },
          clientOptions: { agent: agents.get(service.name)! },
          retry: { baseDelayMs: 1 },
          operationPollMs: 5,
        }),
      },
    });
    bot.sim.workspace.addUser({ id: 'U_GUEST', name: 'gus', guest: 'multi' });
  });

  afterAll(async () => {
    await bot?.stop();
    for (const fake of [...cloudruns.values(), ...appservices.values()]) await fake.close();
    for (const agent of agents.values()) agent.destroy();
    await new Promise((r) => health?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const current = (m: SimMessage) => bot.sim.messagesIn(m.channel).find((x) => x.ts === m.ts) ?? m;
  const ephemeral = async (since: number) => {
    const reply = await bot.sim.waitForResponse({ since });
    return String((reply.body as { text?: string }).text);
  };

  /** Asks for a rollback of `service`, confirms it, and returns the card once it is final. */
  async function rollBack(service: string, beforeConfirm?: () => void): Promise<SimMessage> {
    const user = 'U_ALICE';
    const since = bot.sim.messagesIn('C_GENERAL').length;
    const responses = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({
      command: '/deploy',
      text: `rollback ${service} because errors`,
      userId: user,
      channelId: 'C_GENERAL',
    });
    expect(res.withinAckDeadline).toBe(true);
    expect(await ephemeral(responses)).toContain('only you can confirm');
    const card = await until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
    beforeConfirm?.();
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: user });
    return until('the final line', () => {
      const m = current(card);
      return /verified healthy|could not|interrupted/.test(m.text) ? m : undefined;
    });
  }

  /** The #deployments thread of the newest operation on `service`. */
  async function deploymentsThread(service: string, since: number): Promise<SimMessage[]> {
    const root = await until('the #deployments post', () =>
      bot.sim
        .messagesIn('C_DEPLOYMENTS', { topLevelOnly: true })
        .slice(since)
        .find((m) => m.text.includes(service)),
    );
    return until('the outcome in the thread', () => {
      const t = bot.sim.thread('C_DEPLOYMENTS', root.ts);
      return t.length > 1 ? t : undefined;
    });
  }

  const topLevel = () => bot.sim.messagesIn('C_DEPLOYMENTS', { topLevelOnly: true }).length;

  it('Cloud Run: rolls back (a traffic-only update), verified healthy, one #deployments thread', async () => {
    const cloudrun = cloudruns.get('barq-api')!;
    const since = topLevel();
    const patches = () => cloudrun.requests.filter((r) => r.method === 'PATCH');
    const before = patches().length;
    const done = await rollBack('barq-api');
    expect(done.text).toMatch(/barq-api rolled back from `\S+` to `\S+` in \d+ s; verified healthy/);
    expect(JSON.stringify(done.blocks)).toContain(V1);
    expect(patches().length - before).toBe(1);
    expect(patches().at(-1)?.query.updateMask).toBe('traffic');
    const thread = await deploymentsThread('barq-api', since);
    expect(thread[0]?.text).toContain('rollback started by <@U_ALICE>');
    expect(thread[1]?.text).toContain('verified healthy');
    expect(bot.sim.messagesIn('C_DEPLOYMENTS', { topLevelOnly: true }).slice(since)).toHaveLength(1);
  });

  it('App Service: rolls back to the previous image, verified healthy, one #deployments thread', async () => {
    const since = topLevel();
    const done = await rollBack('fleet-api');
    expect(done.text).toMatch(/fleet-api rolled back from `\S+` to `\S+` in \d+ s; verified healthy/);
    expect(appservices.get('fleet-api')?.site().image).toBe(V1);
    const thread = await deploymentsThread('fleet-api', since);
    expect(thread[0]?.text).toContain('rollback started by <@U_ALICE>');
    expect(thread[1]?.text).toContain('verified healthy');
    expect(bot.sim.messagesIn('C_DEPLOYMENTS', { topLevelOnly: true }).slice(since)).toHaveLength(1);
  });

  it('a target image that never starts: the settle deadline fails the card with the platform reason', async () => {
    const since = topLevel();
    // Planned while v1 was good; by the time of the Confirm its container no longer starts.
    const done = await rollBack('fleet-broken', () => appservices.get('fleet-broken')?.breakImage(V1));
    expect(done.text).toContain('could not roll back it');
    expect(done.text).toMatch(/did not settle: .*did not settle within 3000 ms: \S+/);
    const body = JSON.stringify(done.blocks);
    expect(body).toContain(ROLLBACK_FURTHER_ACTION);
    const thread = await deploymentsThread('fleet-broken', since);
    expect(thread[1]?.text).toContain('did not settle');
  });

  it('health checks that stay red until verifyTimeout: failed card listing the checks, with Roll back further', async () => {
    healthStatus['barq-red'] = 503;
    try {
      const done = await rollBack('barq-red');
      expect(done.text).toContain('verification failed');
      const body = JSON.stringify(done.blocks);
      expect(body).toContain('*Failed checks:* barq-red-ping: unhealthy');
      expect(body).toContain(ROLLBACK_FURTHER_ACTION);
    } finally {
      healthStatus['barq-red'] = 200;
    }
  });

  it('a platform error: the card says the platform refused, and nothing claims success', async () => {
    const cloudrun = cloudruns.get('barq-denied')!;
    cloudrun.deny('run.services.update');
    try {
      const done = await rollBack('barq-denied');
      expect(done.text).toContain('could not roll back it');
      expect(done.text).toMatch(/permission|denied|run\.services\.update/i);
      expect(done.text).not.toContain('verified healthy');
    } finally {
      cloudrun.allow('run.services.update');
    }
  });

  it('a guest is refused /deploy rollback and its Confirm button, told who may', async () => {
    const responses = bot.sim.responses.length;
    const cloudrun = cloudruns.get('barq-guest')!;
    await bot.slack.slashCommand({ command: '/deploy', text: 'rollback barq-guest', userId: 'U_GUEST' });
    expect(await ephemeral(responses)).toContain('Guests may not run deploy operations in production');
    expect(await ephemeral(responses)).toContain('full members of the workspace may');

    const since = bot.sim.messagesIn('C_GENERAL').length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'rollback barq-guest',
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    const card = await until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
    const patches = cloudrun.requests.filter((r) => r.method === 'PATCH').length;
    const refused = bot.sim.responses.length;
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_GUEST' });
    // Alice's own "the card is in the channel" answer may still arrive after `refused`: look for the refusal.
    await until('the refusal', () =>
      bot.sim.responses
        .slice(refused)
        .find((r) =>
          String((r.body as { text?: string }).text).includes('Guests may not run deploy operations'),
        ),
    );
    expect(cloudrun.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);
    expect(JSON.stringify(current(card).blocks)).toContain(CONFIRM_DEPLOY_ACTION);
  });
});
