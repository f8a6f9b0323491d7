import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from '../../../src/local/platforms/kubernetes/server.ts';
import { POST_DEPLOY_STATUS_ACTION } from '../../../src/slack/deploy/status-extra.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';

/**
 * `/deploy status` end to end: the real bot, its Kubernetes adapter on the SDK, and the Kubernetes
 * fake, with the cluster and token from $KUBECONFIG as in production.
 */
describe('/deploy status, end to end through the Slack simulator', () => {
  let fake: KubernetesFake;
  let bot: TestBot;
  let dir: string;
  let health: Server;
  /** The health endpoint answers after a while (slower than the platform), with this status. */
  let healthStatus = 200;
  const savedKubeconfig = process.env.KUBECONFIG;

  beforeAll(async () => {
    health = createServer((_req, res) => {
      setTimeout(() => res.writeHead(healthStatus, { 'content-type': 'text/plain' }).end('ok'), 700);
    });
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/ping`;
    fake = await startKubernetesFake({
      namespace: 'prod',
      deployment: 'barq-api',
      container: 'api',
      token: 'k8s-token',
    });
    await fake.deploy('registry.example.com/app:v1');
    dir = mkdtempSync(join(tmpdir(), 'deploy-status-'));
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: prod, cluster: { server: "https://kubernetes.invalid:6443" } }]',
        'users: [{ name: bot, user: { token: k8s-token } }]',
        'contexts: [{ name: prod, context: { cluster: prod, user: bot, namespace: prod } }]',
        'current-context: prod',
        '',
      ].join('\n'),
    );
    process.env.KUBECONFIG = join(dir, 'kubeconfig');
    writeFileSync(
      join(dir, 'runbook.yml'),
      [
        'services:',
        '  - name: barq-api',
        `    platform: { kind: kubernetes, namespace: prod, deployment: barq-api, container: api, endpoint: "${fake.url}" }`,
        `    healthChecks: [{ type: http, name: api-ping, url: "${healthUrl}", expectBody: any }]`,
        '',
      ].join('\n'),
    );
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: join(dir, 'runbook.yml') } });
  });

  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
    await new Promise((r) => health?.close(r));
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    rmSync(dir, { recursive: true, force: true });
  });

  async function answer(text: string): Promise<string> {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command: '/deploy', text });
    expect(res.withinAckDeadline).toBe(true);
    if (res.body) return (res.json as { text: string }).text;
    const reply = await bot.sim.waitForResponse({ since });
    return String((reply.body as { text?: string }).text);
  }

  it('acks, then says what the platform reports', async () => {
    const text = await answer('status barq-api');
    expect(text).toContain(':large_green_circle: *barq-api* (production) is *ready* on Kubernetes');
    expect(text).toContain('revision `1` · image `registry.example.com/app:v1`');
    expect(text).toContain('maintenance off');
  });

  it('answers at once with the platform, then with the health summary and a "Post to channel" button', async () => {
    healthStatus = 503;
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command: '/deploy', text: 'status barq-api' });
    expect(res.withinAckDeadline).toBe(true);
    const first = await bot.sim.waitForResponse({
      since,
      predicate: (r) => JSON.stringify(r.body).includes('checking…'),
    });
    const firstBody = first.body as { text?: string; blocks?: unknown[] };
    expect(firstBody.text).toContain('is *ready* on Kubernetes');
    expect(firstBody.text).toContain('*Health:* :hourglass_flowing_sand: checking…');
    expect(JSON.stringify(firstBody.blocks)).not.toContain(POST_DEPLOY_STATUS_ACTION);
    const second = await bot.sim.waitForResponse({
      since: first.index + 1,
      predicate: (r) => JSON.stringify(r.body).includes('checks healthy'),
    });
    const body = second.body as { text?: string; blocks?: unknown[] };
    expect(body.text).toContain('is *ready* on Kubernetes');
    expect(body.text).toMatch(/\*Health:\* \S+ unhealthy, 0\/1 checks healthy: api-ping unhealthy/);
    expect(JSON.stringify(body.blocks)).toContain(POST_DEPLOY_STATUS_ACTION);

    healthStatus = 200;
    const clicked = bot.sim.responses.length;
    await bot.slack.clickButton({ actionId: POST_DEPLOY_STATUS_ACTION, userId: 'U_ALICE' });
    const posted = await bot.sim.waitForResponse({
      since: clicked,
      predicate: (r) => r.outcome === 'in_channel',
    });
    expect(posted.outcome).toBe('in_channel');
    const message = bot.sim
      .messagesIn(posted.context.channelId ?? bot.sim.defaultChannelId)
      .find((m) => m.ts === posted.messageTs);
    expect(message?.text).toContain('is *ready* on Kubernetes');
    expect(message?.text).toContain('1/1 checks healthy');
    expect(JSON.stringify(message?.blocks)).toContain('Checked just now for <@U_ALICE>');
  });

  it('passes on the platform’s own reason when not ready', async () => {
    await fake.deployBroken('registry.example.com/app:broken');
    const text = await answer('status barq-api');
    expect(text).toContain('is *not ready* on Kubernetes');
    expect(text).toMatch(/Waiting for deployment "barq-api" rollout to finish|ProgressDeadlineExceeded/);
  });

  it('names the services it knows for an unknown one', async () => {
    const text = await answer('status barq-apx');
    expect(text).toContain('There is no service "barq-apx"');
    expect(text).toContain('`/deploy status barq-api`');
  });
});
