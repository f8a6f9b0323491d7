import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubernetesFake, startKubernetesFake } from '../../../src/local/platforms/kubernetes/server.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';

/**
 * `/deploy status` end to end: the real bot, its Kubernetes adapter on the SDK, and the Kubernetes
 * fake, with the cluster and token from $KUBECONFIG as in production.
 */
describe('/deploy status, end to end through the Slack simulator', () => {
  let fake: KubernetesFake;
  let bot: TestBot;
  let dir: string;
  const savedKubeconfig = process.env.KUBECONFIG;

  beforeAll(async () => {
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
        '',
      ].join('\n'),
    );
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: join(dir, 'runbook.yml') } });
  });

  afterAll(async () => {
    await bot?.stop();
    await fake?.close();
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
