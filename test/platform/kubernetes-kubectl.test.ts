import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/schema.ts';
import { type KubernetesFake, startKubernetesFake } from '../../src/local/platforms/kubernetes/server.ts';
import { createKubernetesPlatform } from '../../src/platform/kubernetes/kubernetes-platform.ts';
import type { Platform } from '../../src/platform/platform.ts';

/**
 * The fake checked against kubectl itself: the same operation done by `kubectl` on one fake and by
 * the adapter on a twin fake must leave the same state (revisions, images, replicas, ReplicaSets).
 * kubectl sends no credentials over plain http, so these fakes take none.
 */

const KUBECTL = '/usr/bin/kubectl';
const NAMESPACE = 'fleet';
const DEPLOYMENT = 'fleet-api';
const SETTLE = { timeoutMs: 5_000, pollMs: 10 };

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbook-kubectl-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(fake: KubernetesFake, ...args: string[]): Promise<Run> {
  const config = join(dir, `${new URL(fake.url).port}.yaml`);
  await writeFile(
    config,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      `  cluster: {server: "${fake.url}"}`,
      'contexts:',
      `- name: fake`,
      `  context: {cluster: fake, user: ops, namespace: ${NAMESPACE}}`,
      'current-context: fake',
      'users:',
      '- name: ops',
      '  user: {}',
      '',
    ].join('\n'),
  );
  const argv = ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), ...args];
  return new Promise((resolve, reject) => {
    execFile(
      KUBECTL,
      argv,
      { timeout: 20_000, env: { HOME: dir, PATH: process.env.PATH ?? '/usr/bin:/bin' } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`kubectl ${args.join(' ')} failed to run: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

function adapterFor(fake: KubernetesFake): Platform {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
    users: [{ name: 'bot' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'bot', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  const service = serviceSchema.parse({
    name: 'fleet-api',
    platform: { kind: 'kubernetes', namespace: NAMESPACE, deployment: DEPLOYMENT },
  });
  return createKubernetesPlatform(service, { kubeConfig: kc, retry: { baseDelayMs: 1 } });
}

/** `kubectl rollout history` as [revision, change-cause] rows. */
function historyRows(stdout: string): [string, string][] {
  return stdout
    .split('\n')
    .map((line) => /^(\d+)\s+(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', (m[2] ?? '').trim()]);
}

describe('kubernetes fake and adapter against kubectl', () => {
  let viaKubectl: KubernetesFake;
  let viaAdapter: KubernetesFake;
  let adapter: Platform;

  beforeEach(async () => {
    const options = { namespace: NAMESPACE, deployment: DEPLOYMENT, container: 'fleet-api', replicas: 3 };
    [viaKubectl, viaAdapter] = await Promise.all([
      startKubernetesFake(options),
      startKubernetesFake(options),
    ]);
    for (const fake of [viaKubectl, viaAdapter]) {
      for (const v of ['1.2.1', '1.2.2', '1.2.3']) await fake.deploy(`fleetacr.azurecr.io/fleet-api:${v}`);
    }
    adapter = adapterFor(viaAdapter);
  });

  afterEach(async () => {
    await Promise.all([viaKubectl.close(), viaAdapter.close()]);
  });

  const same = () => expect(viaAdapter.snapshot()).toEqual(viaKubectl.snapshot());

  it('rollout history shows the revisions and change causes the adapter reports', async () => {
    const run = await kubectl(viaKubectl, 'rollout', 'history', `deployment/${DEPLOYMENT}`);
    expect(run.code).toBe(0);
    const expected = historyRows(run.stdout);
    expect(expected).toEqual([
      ['1', 'deploy fleetacr.azurecr.io/fleet-api:1.2.1'],
      ['2', 'deploy fleetacr.azurecr.io/fleet-api:1.2.2'],
      ['3', 'deploy fleetacr.azurecr.io/fleet-api:1.2.3'],
    ]);
    for (const platform of [adapterFor(viaKubectl), adapter]) {
      const history = await platform.history();
      expect(history.map((r) => [r.id, r.cause ?? '<none>']).reverse()).toEqual(expected);
    }
  });

  it('rollout undo and rollout status leave the same state as rollback and waitUntilSettled', async () => {
    const undo = await kubectl(viaKubectl, 'rollout', 'undo', `deployment/${DEPLOYMENT}`);
    expect(undo).toMatchObject({ code: 0, stdout: `deployment.apps/${DEPLOYMENT} rolled back\n` });
    const status = await kubectl(
      viaKubectl,
      'rollout',
      'status',
      `deployment/${DEPLOYMENT}`,
      '--timeout=10s',
    );
    expect(status.code).toBe(0);

    expect((await adapter.rollback()).to).toBe('2');
    const settled = await adapter.waitUntilSettled(SETTLE);
    expect(settled.settled).toBe(true);
    expect(status.stdout.trim().split('\n').at(-1)).toBe(settled.detail);

    same();
    expect(viaAdapter.snapshot()).toMatchObject({
      revision: '4',
      images: ['fleetacr.azurecr.io/fleet-api:1.2.2'],
    });
    const kubectlHistory = historyRows(
      (await kubectl(viaKubectl, 'rollout', 'history', `deployment/${DEPLOYMENT}`)).stdout,
    );
    expect((await adapter.history()).map((r) => [r.id, r.cause ?? '<none>']).reverse()).toEqual(
      kubectlHistory,
    );
  });

  it('rollout undo --to-revision twice matches rollback to a given revision twice', async () => {
    for (const revision of ['1', '3']) {
      expect(
        (
          await kubectl(
            viaKubectl,
            'rollout',
            'undo',
            `deployment/${DEPLOYMENT}`,
            `--to-revision=${revision}`,
          )
        ).code,
      ).toBe(0);
      expect(
        (await kubectl(viaKubectl, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=10s')).code,
      ).toBe(0);
      await adapter.rollback({ toRevision: revision });
      expect((await adapter.waitUntilSettled(SETTLE)).settled).toBe(true);
      same();
    }
    // Revision 3 came back as 5 after revision 1 had become 4.
    expect(viaAdapter.snapshot()).toMatchObject({
      revision: '5',
      images: ['fleetacr.azurecr.io/fleet-api:1.2.3'],
    });
    expect(viaAdapter.snapshot().replicaSets.map((rs) => [rs.revision, rs.revisionHistory])).toEqual([
      [2, undefined],
      [4, '1'],
      [5, '3'],
    ]);
  });

  it('kubectl scale matches scale', async () => {
    const run = await kubectl(viaKubectl, 'scale', `deployment/${DEPLOYMENT}`, '--replicas=5');
    expect(run).toMatchObject({ code: 0, stdout: `deployment.apps/${DEPLOYMENT} scaled\n` });
    await viaKubectl.waitForRollout();
    await adapter.scale(5);
    await viaAdapter.waitForRollout();
    same();
    expect(viaAdapter.snapshot().replicas).toBe(5);
  });

  it('rollout restart matches restart: a new revision of the same image', async () => {
    const run = await kubectl(viaKubectl, 'rollout', 'restart', `deployment/${DEPLOYMENT}`);
    expect(run).toMatchObject({ code: 0, stdout: `deployment.apps/${DEPLOYMENT} restarted\n` });
    expect(
      (await kubectl(viaKubectl, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=10s')).code,
    ).toBe(0);
    await adapter.restart();
    expect((await adapter.waitUntilSettled(SETTLE)).settled).toBe(true);
    same();
    expect(viaAdapter.snapshot()).toMatchObject({
      revision: '4',
      images: ['fleetacr.azurecr.io/fleet-api:1.2.3'],
    });
    const restartedAt = (fake: KubernetesFake) =>
      (fake.deployment().spec as { template: { metadata: { annotations: Record<string, string> } } }).template
        .metadata.annotations['kubectl.kubernetes.io/restartedAt'];
    expect(restartedAt(viaKubectl)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(restartedAt(viaAdapter)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('rollout status and waitUntilSettled both give up on a rollout past its progress deadline', async () => {
    await Promise.all(
      [viaKubectl, viaAdapter].map((f) => f.deployBroken('fleetacr.azurecr.io/fleet-api:broken')),
    );
    const status = await kubectl(
      viaKubectl,
      'rollout',
      'status',
      `deployment/${DEPLOYMENT}`,
      '--timeout=10s',
    );
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`error: deployment "${DEPLOYMENT}" exceeded its progress deadline`);
    const settled = await adapter.waitUntilSettled(SETTLE);
    expect(settled.settled).toBe(false);
    expect(settled.detail).toContain(`deployment "${DEPLOYMENT}" exceeded its progress deadline`);
    same();
    // And kubectl's undo gets out of it the same way rollback does.
    expect((await kubectl(viaKubectl, 'rollout', 'undo', `deployment/${DEPLOYMENT}`)).code).toBe(0);
    expect(
      (await kubectl(viaKubectl, 'rollout', 'status', `deployment/${DEPLOYMENT}`, '--timeout=10s')).code,
    ).toBe(0);
    await adapter.rollback();
    expect((await adapter.waitUntilSettled(SETTLE)).settled).toBe(true);
    same();
    expect(viaAdapter.snapshot()).toMatchObject({
      revision: '5',
      images: ['fleetacr.azurecr.io/fleet-api:1.2.3'],
    });
  });
});
