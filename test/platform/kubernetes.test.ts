import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { type ServiceConfig, serviceSchema } from '../../src/config/schema.ts';
import { type KubernetesFake, startKubernetesFake } from '../../src/local/platforms/kubernetes/server.ts';
import { PlatformError } from '../../src/platform/errors.ts';
import {
  createKubernetesPlatform,
  type KubernetesPlatformOptions,
} from '../../src/platform/kubernetes/kubernetes-platform.ts';
import { parseDeployment } from '../../src/platform/kubernetes/resources.ts';
import { rolloutState } from '../../src/platform/kubernetes/rollout-status.ts';
import type { Platform } from '../../src/platform/platform.ts';
import { describePlatformContract } from './contract.ts';

const TOKEN = 'k8s-test-token';
const NAMESPACE = 'prod';
const DEPLOYMENT = 'barq-api';

/** A kubeconfig like a real one; its server is not the fake: the service's endpoint override is. */
function kubeConfig(token = TOKEN): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'prod-cluster', server: 'https://kubernetes.invalid:6443', skipTLSVerify: false }],
    users: [{ name: 'bot', token }],
    contexts: [{ name: 'prod', cluster: 'prod-cluster', user: 'bot', namespace: NAMESPACE }],
    currentContext: 'prod',
  });
  return kc;
}

/** A kubeconfig whose user gets credentials from an exec plugin (a Node script, here). */
function execKubeConfig(script: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'prod-cluster', server: 'https://kubernetes.invalid:6443', skipTLSVerify: false }],
    users: [
      {
        name: 'bot',
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: ['-e', script],
          interactiveMode: 'Never',
        },
      },
    ],
    contexts: [{ name: 'prod', cluster: 'prod-cluster', user: 'bot', namespace: NAMESPACE }],
    currentContext: 'prod',
  });
  return kc;
}

function serviceFor(endpoint: string, overrides: Record<string, unknown> = {}): ServiceConfig {
  const { platform, ...rest } = overrides;
  return serviceSchema.parse({
    name: 'barq-api',
    platform: {
      kind: 'kubernetes',
      namespace: NAMESPACE,
      deployment: DEPLOYMENT,
      container: 'api',
      endpoint,
      ...(platform as Record<string, unknown> | undefined),
    },
    scaling: { min: 1, max: 10 },
    ...rest,
  });
}

async function startFake(): Promise<KubernetesFake> {
  return startKubernetesFake({
    namespace: NAMESPACE,
    deployment: DEPLOYMENT,
    container: 'api',
    token: TOKEN,
  });
}

function platformFor(
  fake: KubernetesFake,
  options: KubernetesPlatformOptions = {},
  overrides = {},
): Platform {
  return createKubernetesPlatform(serviceFor(fake.url, overrides), {
    kubeConfig: kubeConfig(),
    retry: { baseDelayMs: 1 },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlatformError);
  return error as PlatformError;
}

const SETTLE = { timeoutMs: 5_000, pollMs: 10 };

describePlatformContract('kubernetes', async () => {
  const fake = await startFake();
  return {
    platform: platformFor(fake),
    deploy: (image) => fake.deploy(image),
    deployBroken: (image) => fake.deployBroken(image),
    deployFailed: async (image) => {
      await fake.deployBroken(image);
      // The controller marks Progressing False/ProgressDeadlineExceeded after the deadline (300 ms).
      for (;;) {
        const status = fake.deployment().status as { conditions?: Record<string, string>[] } | undefined;
        const progressing = status?.conditions?.find((c) => c.type === 'Progressing');
        if (progressing?.reason === 'ProgressDeadlineExceeded') return progressing.message ?? '';
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    failNext: (status, times) => fake.failNext(status, times),
    serviceName: 'barq-api',
    withoutCredentials: () =>
      createKubernetesPlatform(serviceFor(fake.url), {
        kubeConfig: execKubeConfig(
          "process.stderr.write('error: You must be logged in to the server (Unauthorized)\\n'); process.exit(1)",
        ),
        retry: { baseDelayMs: 1 },
      }),
    apiRequests: () => fake.requests.length,
    close: () => fake.close(),
  };
});

describe('kubernetes platform', () => {
  let fake: KubernetesFake;
  const extra: { close(): Promise<void> }[] = [];

  async function deployed(...images: string[]): Promise<KubernetesFake> {
    fake = await startFake();
    for (const image of images) await fake.deploy(image);
    return fake;
  }

  afterEach(async () => {
    await fake?.close();
    for (const x of extra.splice(0)) await x.close();
  });

  it('gets the kubeconfig user’s credentials within credentialTimeoutMs, or says it could not', async () => {
    await deployed('registry.example.com/app:v1');
    const hanging = createKubernetesPlatform(serviceFor(fake.url), {
      kubeConfig: execKubeConfig('setTimeout(() => undefined, 3000)'),
      credentialTimeoutMs: 100,
    });
    const error = await failure(hanging.status());
    expect(error).toMatchObject({ code: 'unauthenticated', transient: false });
    expect(error.message).toBe(
      'could not get Kubernetes credentials for barq-api: no answer within 0.1 s. Check the kubeconfig user the bot runs with (its token, client certificate or exec plugin)',
    );
    const token = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: TOKEN },
    });
    const plugin = createKubernetesPlatform(serviceFor(fake.url), {
      kubeConfig: execKubeConfig(`process.stdout.write(${JSON.stringify(token)})`),
    });
    // The fake answers only requests with the bearer token: the plugin's token was sent.
    expect((await plugin.status()).image).toBe('registry.example.com/app:v1');
  });

  it('reads status the way kubectl rollout status does, through the endpoint override', async () => {
    await deployed('registry.example.com/app:v1', 'registry.example.com/app:v2');
    const status = await platformFor(fake).status();
    expect(status).toEqual({
      kind: 'kubernetes',
      target: 'barq-api (deployment barq-api, namespace prod)',
      revision: '2',
      image: 'registry.example.com/app:v2',
      replicas: { desired: 2, ready: 2 },
      ready: true,
      maintenance: false,
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/apps/v1/namespaces/prod/deployments/barq-api',
    ]);
  });

  it('says why a rollout is not done, in kubectl words, and stops waiting at ProgressDeadlineExceeded', async () => {
    await deployed('registry.example.com/app:v1');
    await fake.deployBroken('registry.example.com/app:broken');
    const platform = platformFor(fake);
    const during = await platform.status();
    expect(during.ready).toBe(false);
    expect(during.image).toBe('registry.example.com/app:broken');
    expect(during.reason).toMatch(
      /\d out of 2 new replicas have been updated|exceeded its progress deadline/,
    );
    const settled = await platform.waitUntilSettled({ timeoutMs: 5_000, pollMs: 10 });
    expect(settled.settled).toBe(false);
    expect(settled.detail).toContain('deployment "barq-api" exceeded its progress deadline');
    expect(settled.waitedMs).toBeLessThan(5_000);
    expect((await platform.status()).reason).toMatch(/^ProgressDeadlineExceeded: /);
  });

  it('lists history from the ReplicaSets it owns, with revision numbers and change causes', async () => {
    await deployed('registry.example.com/app:v1', 'registry.example.com/app:v2');
    const history = await platformFor(fake).history();
    expect(history.map(({ createdAt: _c, ...r }) => r)).toEqual([
      {
        id: '2',
        image: 'registry.example.com/app:v2',
        cause: 'deploy registry.example.com/app:v2',
        current: true,
      },
      {
        id: '1',
        image: 'registry.example.com/app:v1',
        cause: 'deploy registry.example.com/app:v1',
        current: false,
      },
    ]);
    expect(history[0]?.createdAt).toBeInstanceOf(Date);
    expect(fake.requests.at(-1)).toMatchObject({
      path: '/apis/apps/v1/namespaces/prod/replicasets',
      query: { labelSelector: 'app=barq-api' },
    });
    expect(await platformFor(fake).history(1)).toHaveLength(1);
  });

  it('rolls back like kubectl rollout undo: JSON patch of the template and annotations, revision renumbered', async () => {
    await deployed('registry.example.com/app:v1', 'registry.example.com/app:v2');
    const platform = platformFor(fake);
    const result = await platform.rollback();
    expect(result).toMatchObject({ action: 'rollback', from: '2', to: '1', changed: true });
    expect(result.summary).toBe(
      'rolled back barq-api (deployment barq-api, namespace prod) from revision 2 (registry.example.com/app:v2) to revision 1 (registry.example.com/app:v1); Kubernetes records the rollout as revision 3',
    );
    const patch = fake.requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/json-patch+json');
    expect(patch?.query).toMatchObject({ fieldManager: 'runbook-bot' });
    const ops = patch?.body as { op: string; path: string; value: Record<string, unknown> }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual([
      'replace /spec/template',
      'replace /metadata/annotations',
    ]);
    expect(JSON.stringify(ops[0]?.value)).not.toContain('pod-template-hash');
    expect(ops[1]?.value).toEqual({
      'deployment.kubernetes.io/revision': '2',
      'kubernetes.io/change-cause': 'deploy registry.example.com/app:v1',
    });
    expect((await platform.waitUntilSettled(SETTLE)).settled).toBe(true);
    const history = await platform.history();
    expect(history.map((r) => [r.id, r.image, r.current])).toEqual([
      ['3', 'registry.example.com/app:v1', true],
      ['2', 'registry.example.com/app:v2', false],
    ]);
    expect(fake.snapshot().replicaSets.find((rs) => rs.revision === 3)?.revisionHistory).toBe('1');
  });

  it('skips a rollback to the template already running, and says there is no history with one revision', async () => {
    await deployed('registry.example.com/app:v1');
    const platform = platformFor(fake);
    const none = await failure(platform.rollback());
    expect(none.code).toBe('not_found');
    expect(none.message).toContain('no rollout history to roll back to for deployment barq-api');
    const same = await platform.rollback({ toRevision: '1' });
    expect(same).toMatchObject({ changed: false, from: '1', to: '1' });
    expect(same.summary).toContain('already matches revision 1');
    const missing = await failure(platform.rollback({ toRevision: '7' }));
    expect(missing.message).toBe(
      'revision "7" not found in the history of deployment barq-api: its revisions are 1',
    );
  });

  it('refuses to roll back or restart a paused deployment, as kubectl does', async () => {
    await deployed('registry.example.com/app:v1', 'registry.example.com/app:v2');
    fake.setPaused(true);
    const platform = platformFor(fake);
    for (const attempt of [platform.rollback(), platform.restart()]) {
      const error = await failure(attempt);
      expect(error.code).toBe('conflict');
      expect(error.message).toContain(
        'the deployment is paused; resume it first (kubectl rollout resume deployment/barq-api -n prod)',
      );
    }
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('restarts through the restartedAt template annotation at the clock time', async () => {
    await deployed('registry.example.com/app:v1');
    const clock = new ManualClock('2026-03-01T09:30:15.250Z');
    const platform = platformFor(fake, { clock });
    const result = await platform.restart();
    expect(result).toMatchObject({
      from: 'not restarted before',
      to: 'restartedAt 2026-03-01T09:30:15Z',
      changed: true,
    });
    const patch = fake.requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch?.body).toEqual({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-03-01T09:30:15Z' } },
        },
      },
    });
    expect((await platform.restart()).changed).toBe(false);
    await fake.waitForRollout();
    expect(fake.snapshot()).toMatchObject({ revision: '2', images: ['registry.example.com/app:v1'] });
  });

  it('scales through the scale subresource within the configured bounds', async () => {
    await deployed('registry.example.com/app:v1');
    const platform = platformFor(fake);
    for (const n of [0, 11, 2.5]) {
      const error = await failure(platform.scale(n));
      expect(error.code).toBe('invalid');
      expect(error.message).toContain('the configured bounds are 1 to 10');
    }
    expect(fake.requests).toHaveLength(0);
    const result = await platform.scale(4);
    expect(result).toMatchObject({ from: '2 replicas', to: '4 replicas', changed: true });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/apps/v1/namespaces/prod/deployments/barq-api/scale',
      'PUT /apis/apps/v1/namespaces/prod/deployments/barq-api/scale',
    ]);
    expect(fake.requests[1]?.body).toMatchObject({ kind: 'Scale', spec: { replicas: 4 } });
    expect((await platform.scale(4)).changed).toBe(false);
    expect((await platform.waitUntilSettled(SETTLE)).settled).toBe(true);
    expect((await platform.status()).replicas).toEqual({ desired: 4, ready: 4 });
  });

  it('reads left-out zero counts as zero when scaled to nothing', async () => {
    await deployed('registry.example.com/app:v1');
    const platform = platformFor(fake, {}, { scaling: { min: 0, max: 3 } });
    await platform.scale(0);
    // kubectl rollout status does not wait for pods to go away on a scale-down; the controller does.
    await fake.waitForRollout();
    expect(fake.deployment().status).not.toHaveProperty('readyReplicas');
    expect(await platform.status()).toMatchObject({ replicas: { desired: 0, ready: 0 }, ready: true });
  });

  it('switches maintenance mode with an environment variable on the configured container', async () => {
    await deployed('registry.example.com/app:v1');
    const platform = platformFor(fake, {}, { maintenanceEnvVar: 'READ_ONLY' });
    const on = await platform.setMaintenance(true);
    expect(on).toMatchObject({ action: 'maintenance', from: 'off', to: 'on', changed: true });
    expect(on.summary).toContain('READ_ONLY=true on container api');
    expect(fake.requests.find((r) => r.method === 'PATCH')?.body).toEqual([
      { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'api' },
      {
        op: 'add',
        path: '/spec/template/spec/containers/0/env',
        value: [{ name: 'READ_ONLY', value: 'true' }],
      },
    ]);
    await fake.waitForRollout();
    expect((await platform.status()).maintenance).toBe(true);
    const off = await platform.setMaintenance(false);
    expect(off).toMatchObject({ from: 'on', to: 'off', changed: true });
    await fake.waitForRollout();
    const template = (
      fake.deployment().spec as { template: { spec: { containers: Record<string, unknown>[] } } }
    ).template;
    expect(template.spec.containers[0]).not.toHaveProperty('env');
    // Off restores the original template, so the controller reuses its ReplicaSet under a new number.
    expect(fake.snapshot().replicaSets.map((rs) => rs.revision)).toEqual([2, 3]);
    expect(fake.snapshot().revision).toBe('3');
  });

  it('adds to and removes from an existing environment, guarded by a test of what it read', async () => {
    await deployed('registry.example.com/app:v1');
    await platformFor(fake, {}, { maintenanceEnvVar: 'READ_ONLY' }).setMaintenance(true);
    await fake.waitForRollout();
    const platform = platformFor(fake);
    await platform.setMaintenance(true);
    const base = '/spec/template/spec/containers/0';
    const patches = () => fake.requests.filter((r) => r.method === 'PATCH').map((r) => r.body);
    expect(patches().at(-1)).toEqual([
      { op: 'test', path: `${base}/name`, value: 'api' },
      { op: 'test', path: `${base}/env`, value: [{ name: 'READ_ONLY', value: 'true' }] },
      { op: 'add', path: `${base}/env/-`, value: { name: 'MAINTENANCE_MODE', value: 'true' } },
    ]);
    await fake.waitForRollout();
    expect((await platform.setMaintenance(true)).changed).toBe(false);
    await platform.setMaintenance(false);
    expect(patches().at(-1)).toEqual([
      { op: 'test', path: `${base}/name`, value: 'api' },
      {
        op: 'test',
        path: `${base}/env`,
        value: [
          { name: 'READ_ONLY', value: 'true' },
          { name: 'MAINTENANCE_MODE', value: 'true' },
        ],
      },
      { op: 'remove', path: `${base}/env/1` },
    ]);
    await fake.waitForRollout();
    expect(fake.snapshot().revision).toBe('4');
    expect((await platform.status()).maintenance).toBe(false);
  });

  it('names the containers when the configured one does not exist', async () => {
    await deployed('registry.example.com/app:v1');
    const error = await failure(
      platformFor(fake, {}, { platform: { container: 'worker' } }).setMaintenance(true),
    );
    expect(error.code).toBe('not_found');
    expect(error.message).toBe(
      'container "worker" not found in deployment barq-api: its containers are api; fix platform.container',
    );
  });

  it('turns an RBAC denial into permission_denied naming the verb, resource and namespace', async () => {
    await deployed('registry.example.com/app:v1');
    fake.deny('patch', 'deployments');
    const error = await failure(platformFor(fake).restart());
    expect(error.code).toBe('permission_denied');
    expect(error.transient).toBe(false);
    expect(error.message).toBe(
      'permission denied: the bot\'s identity needs RBAC verb "patch" on deployments (API group apps) in namespace prod to restart its pods for barq-api (deployment barq-api, namespace prod) (API server: deployments.apps "barq-api" is forbidden: User "system:serviceaccount:ops:runbook-bot" cannot patch resource "deployments" in API group "apps" in the namespace "prod")',
    );
  });

  it('says which deployment, namespace and cluster when the deployment does not exist', async () => {
    await deployed('registry.example.com/app:v1');
    const platform = platformFor(fake, {}, { platform: { deployment: 'barq-web' } });
    const error = await failure(platform.status());
    expect(error.code).toBe('not_found');
    expect(error.message).toContain(
      `deployment barq-web not found in namespace prod of the cluster at ${fake.url}`,
    );
  });

  it('turns rejected credentials into unauthenticated without showing the token', async () => {
    await deployed('registry.example.com/app:v1');
    const platform = createKubernetesPlatform(serviceFor(fake.url), {
      kubeConfig: kubeConfig('wrong-token'),
    });
    const error = await failure(platform.status());
    expect(error.code).toBe('unauthenticated');
    expect(error.message).toContain('did not accept the bot');
    expect(error.message).not.toContain('wrong-token');
  });

  it('retries 5xx with backoff, a bounded number of times', async () => {
    await deployed('registry.example.com/app:v1');
    fake.failNext(500, 10);
    const error = await failure(platformFor(fake, { retry: { baseDelayMs: 1, attempts: 3 } }).status());
    expect(error).toMatchObject({ code: 'unavailable', transient: true, status: 500 });
    expect(fake.requests).toHaveLength(3);
  });

  it('reports an unreachable API server as unavailable', async () => {
    const closed = await startFake();
    const url = closed.url;
    await closed.close();
    fake = await startFake();
    const platform = createKubernetesPlatform(serviceFor(url), {
      kubeConfig: kubeConfig(),
      retry: { baseDelayMs: 1, attempts: 2 },
    });
    const error = await failure(platform.status());
    expect(error).toMatchObject({ code: 'unavailable', transient: true });
    expect(error.message).toContain(`cannot reach the Kubernetes API at ${url} (ECONNREFUSED)`);
  });

  it('gives up on an API server that does not answer within the request timeout', async () => {
    fake = await startFake();
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    extra.push({
      close: () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    });
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const platform = createKubernetesPlatform(serviceFor(url), {
      kubeConfig: kubeConfig(),
      retry: { baseDelayMs: 1, attempts: 2 },
      requestTimeoutMs: 50,
    });
    const error = await failure(platform.status());
    expect(error).toMatchObject({ code: 'timeout', transient: true });
    expect(error.message).toContain('within 50 ms');
  });

  it('checks the configured kubeconfig context', async () => {
    fake = await startFake();
    const platform = platformFor(fake, {}, { platform: { context: 'staging' } });
    const error = await failure(platform.status());
    expect(error.code).toBe('invalid');
    expect(error.message).toBe(
      'the kubeconfig has no context "staging" (contexts: prod): fix platform.context',
    );
  });

  it('has no traffic split', async () => {
    fake = await startFake();
    const error = await failure(platformFor(fake).setTraffic?.([]) ?? Promise.resolve());
    expect(error.code).toBe('unsupported');
  });

  it('only accepts a kubernetes service', () => {
    const service = serviceSchema.parse({
      name: 'barq-api',
      platform: { kind: 'cloudrun', project: 'p', region: 'r', service: 's' },
    });
    expect(() => createKubernetesPlatform(service)).toThrow(/configured for cloudrun, not kubernetes/);
  });
});

describe('kubectl rollout status logic', () => {
  const base = {
    metadata: { name: 'api', uid: 'u', generation: 3, annotations: {} },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'api' } },
      template: { spec: { containers: [{ name: 'api', image: 'img' }] } },
    },
  };
  const state = (status: Record<string, unknown>, paused = false) =>
    rolloutState(parseDeployment({ ...base, spec: { ...base.spec, paused }, status }));

  it.each([
    [{ observedGeneration: 2 }, 'Waiting for deployment spec update to be observed...'],
    [
      { observedGeneration: 3, updatedReplicas: 1, replicas: 3 },
      'Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...',
    ],
    [
      { observedGeneration: 3, updatedReplicas: 3, replicas: 4 },
      'Waiting for deployment "api" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      { observedGeneration: 3, updatedReplicas: 3, replicas: 3, availableReplicas: 2 },
      'Waiting for deployment "api" rollout to finish: 2 of 3 updated replicas are available...',
    ],
    [
      { observedGeneration: 3, updatedReplicas: 3, replicas: 3, availableReplicas: 3 },
      'deployment "api" successfully rolled out',
    ],
  ])('%j → %s', (status, message) => {
    expect(state(status).message).toBe(message);
  });

  it('treats ProgressDeadlineExceeded and a paused rollout as stuck', () => {
    const timedOut = state({
      observedGeneration: 3,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'm' },
      ],
    });
    expect(timedOut).toMatchObject({ done: false, stuck: true, reason: 'ProgressDeadlineExceeded' });
    expect(state({ observedGeneration: 3 }, true)).toMatchObject({ stuck: true, reason: 'DeploymentPaused' });
  });
});
