import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { serviceSchema } from '../../src/config/schema.ts';
import { type CloudRunFake, startCloudRunFake } from '../../src/local/platforms/cloudrun/server.ts';
import {
  type CloudRunPlatformOptions,
  createCloudRunPlatform,
} from '../../src/platform/cloudrun/cloudrun-platform.ts';
import { PlatformError } from '../../src/platform/errors.ts';
import type { Platform } from '../../src/platform/platform.ts';
import { describePlatformContract, type PlatformHarness } from './contract.ts';

/** An auth client that needs no network: google-auth-library's OAuth2Client with a preset token. */
function authFor(token: string): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return auth;
}

function platformFor(
  fake: CloudRunFake,
  options: Partial<CloudRunPlatformOptions> = {},
  scaling = { min: 0, max: 20 },
): Platform {
  const config = serviceSchema.parse({
    name: 'barq-api',
    platform: {
      kind: 'cloudrun',
      project: fake.project,
      region: fake.region,
      service: fake.service,
      endpoint: fake.url,
    },
    scaling,
  });
  return createCloudRunPlatform(config, {
    authClient: authFor(fake.accessToken),
    retry: { baseDelayMs: 1 },
    operationPollMs: 5,
    ...options,
  });
}

describePlatformContract('cloudrun', async (): Promise<PlatformHarness> => {
  const fake = await startCloudRunFake();
  return {
    platform: platformFor(fake),
    deploy: (image) => fake.deploy(image),
    deployBroken: (image) => fake.deployBroken(image),
    deployFailed: async (image) => {
      await fake.deployBroken(image);
      const terminal = fake.serviceResource()?.terminalCondition as { message?: string } | undefined;
      return terminal?.message ?? '';
    },
    failNext: (status, times) => fake.failNext(status, times),
    serviceName: 'barq-api',
    // An auth client with nothing to get a token from ("No refresh token is set.").
    withoutCredentials: () => platformFor(fake, { authClient: new OAuth2Client() }),
    apiRequests: () => fake.requests.length,
    close: () => fake.close(),
  };
});

describe('cloudrun platform specifics', () => {
  const V1 = 'registry.example.com/app:v1';
  const V2 = 'registry.example.com/app:v2';
  const SETTLE = { timeoutMs: 5_000, pollMs: 10 };
  let fake: CloudRunFake;

  async function started(options: Partial<CloudRunPlatformOptions> = {}) {
    fake = await startCloudRunFake({ reconcileMs: 5 });
    await fake.deploy(V1);
    await fake.deploy(V2);
    return platformFor(fake, options);
  }

  function env(revision: Record<string, unknown> | undefined): Record<string, unknown>[] {
    const containers = revision?.containers as { env?: Record<string, unknown>[] }[] | undefined;
    return containers?.[0]?.env ?? [];
  }

  /** A revision's short id from its resource JSON. */
  function idOf(revision: Record<string, unknown> | undefined): string | undefined {
    return String(revision?.name).split('/').pop();
  }

  function patches() {
    return fake.requests.filter((r) => r.method === 'PATCH');
  }

  afterEach(async () => {
    await fake.close();
  });

  it('rolls back with a traffic-only update (updateMask=traffic) that creates no revision', async () => {
    const platform = await started();
    const before = fake.revisions().length;
    const result = await platform.rollback();
    expect(result.to).toBe(idOf(fake.revisions()[1]));
    expect(patches()).toHaveLength(1);
    expect(patches()[0]?.query.updateMask).toBe('traffic');
    expect(fake.revisions()).toHaveLength(before);
    const traffic = fake.serviceResource()?.traffic as {
      type: string;
      revision?: string;
      percent?: number;
    }[];
    expect(traffic).toEqual([
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: result.to, percent: 100 },
    ]);
    expect(result.summary).toBe(`rolled back barq-api from ${result.from} to ${result.to} (image ${V1})`);
  });

  it('restarts by writing the full template back: image, secrets and settings kept, RESTART_TIMESTAMP set', async () => {
    const clock = new ManualClock('2026-03-01T10:15:00Z');
    const platform = await started({ clock });
    const result = await platform.restart();
    const [newest, previous] = fake.revisions();
    expect(result.to).toBe(idOf(newest));
    expect(result.from).toBe(idOf(previous));
    expect(patches()[0]?.query.updateMask).toBeUndefined();
    expect((newest?.containers as { image: string }[] | undefined)?.[0]?.image).toBe(V2);
    expect(env(newest)).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      {
        name: 'DATABASE_URL',
        valueSource: { secretKeyRef: { secret: 'barq-api-database-url', version: 'latest' } },
      },
      { name: 'RESTART_TIMESTAMP', value: '2026-03-01T10:15:00.000Z' },
    ]);
    expect(newest?.scaling).toEqual(previous?.scaling);
    expect(newest?.serviceAccount).toBe(previous?.serviceAccount);
    expect((await platform.status()).revision).toBe(result.to);
  });

  it('after a rollback, maintenance mode changes the serving release, not the one rolled back from', async () => {
    const platform = await started();
    const rollback = await platform.rollback();
    const on = await platform.setMaintenance(true);
    expect(on.changed).toBe(true);
    expect(on.from).toBe('maintenance off');
    const status = await platform.status();
    expect(status).toMatchObject({
      image: V1,
      maintenance: true,
      ready: true,
      revision: on.summary.match(/revision (\S+)/)?.[1],
    });
    expect(status.revision).not.toBe(rollback.to);
    expect(status.traffic).toEqual([{ revision: status.revision, percent: 100 }]);
    expect((await platform.waitUntilSettled(SETTLE)).settled).toBe(true);
  });

  it('after a broken deploy, restart starts from the serving revision and recovers', async () => {
    const platform = await started();
    await fake.deployBroken('registry.example.com/app:broken');
    const broken = await platform.status();
    expect(broken.ready).toBe(false);
    expect(broken.image).toBe(V2);
    expect(broken.reason).toContain('failed to start');
    const result = await platform.restart();
    expect(result.changed).toBe(true);
    const after = await platform.status();
    expect(after).toMatchObject({ ready: true, image: V2, revision: result.to });
  });

  it('a restart whose new revision fails says so, and traffic stays where it was', async () => {
    const platform = await started();
    fake.breakImage(V2);
    const before = await platform.status();
    const error = await platform.restart().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).code).toBe('invalid');
    expect((error as PlatformError).message).toContain('is not ready and cannot serve traffic');
    expect((error as PlatformError).message).toContain(`Traffic stays on ${before.revision}`);
    const after = await platform.status();
    expect(after.revision).toBe(before.revision);
    expect(after.ready).toBe(false);
    const settle = await platform.waitUntilSettled(SETTLE);
    expect(settle).toMatchObject({ settled: false });
    expect(settle.detail).toContain('failed to start');
  });

  it('rolls back past a failed revision, and then is ready again', async () => {
    const platform = await started();
    await fake.deployBroken('registry.example.com/app:broken');
    const history = await platform.history();
    const v1 = history.find((r) => r.image === V1);
    const result = await platform.rollback({ toRevision: v1?.id ?? '' });
    expect(result.changed).toBe(true);
    expect(await platform.status()).toMatchObject({ image: V1, ready: true });
    expect((await platform.waitUntilSettled(SETTLE)).settled).toBe(true);
  });

  it('refuses to roll back to a revision that never became ready', async () => {
    const platform = await started();
    await fake.deployBroken('registry.example.com/app:broken');
    const [broken] = await platform.history(1);
    await expect(platform.rollback({ toRevision: broken?.id ?? '' })).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringContaining('is not ready'),
    });
  });

  it('scale keeps N warm (min) and only raises the ceiling when it is lower', async () => {
    const platform = await started();
    const up = await platform.scale(15);
    expect(up).toMatchObject({
      from: 'min 1, max 10 instances',
      to: 'min 15, max 15 instances',
      changed: true,
    });
    const down = await platform.scale(3);
    expect(down).toMatchObject({ from: 'min 15, max 15 instances', to: 'min 3, max 15 instances' });
    expect((await platform.status()).replicas.desired).toBe(3);
    expect(fake.revisions()[0]?.scaling).toEqual({ minInstanceCount: 3, maxInstanceCount: 15 });
    expect((await platform.scale(3)).changed).toBe(false);
  });

  it('scale refuses numbers outside the configured bounds without calling Cloud Run', async () => {
    fake = await startCloudRunFake();
    await fake.deploy(V1);
    const platform = platformFor(fake, {}, { min: 1, max: 10 });
    const sent = fake.requests.length;
    for (const n of [0, 11, 2.5]) {
      await expect(platform.scale(n)).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringContaining('1–10'),
      });
    }
    expect(fake.requests).toHaveLength(sent);
  });

  it('splits traffic for a gradual roll-out without creating revisions, then refuses template changes mid-way', async () => {
    const platform = await started();
    const [v2, v1] = await platform.history();
    const revisions = fake.revisions().length;
    const split = await platform.setTraffic?.([
      { revision: v1?.id ?? '', percent: 90 },
      { revision: v2?.id ?? '', percent: 10 },
    ]);
    expect(split).toMatchObject({ action: 'traffic', changed: true, to: `${v1?.id} 90%, ${v2?.id} 10%` });
    expect(fake.revisions()).toHaveLength(revisions);
    const status = await platform.status();
    expect(status.traffic).toEqual([
      { revision: v1?.id, percent: 90 },
      { revision: v2?.id, percent: 10 },
    ]);
    expect(status.revision).toBe(v1?.id);
    expect((await platform.history()).filter((r) => r.current)).toHaveLength(2);
    await expect(platform.restart()).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('split'),
    });
    const full = await platform.setTraffic?.([{ revision: 'latest', percent: 100 }]);
    expect(full?.changed).toBe(true);
    expect((await platform.status()).traffic).toEqual([{ revision: v2?.id, percent: 100 }]);
    expect((await platform.setTraffic?.([{ revision: 'latest', percent: 100 }]))?.changed).toBe(false);
  });

  it('validates a traffic split before sending it', async () => {
    const platform = await started();
    const [v2, v1] = await platform.history();
    await expect(
      platform.setTraffic?.([
        { revision: v1?.id ?? '', percent: 50 },
        { revision: v2?.id ?? '', percent: 40 },
      ]),
    ).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('90%') });
    await expect(platform.setTraffic?.([{ revision: 'Not A Revision', percent: 100 }])).rejects.toMatchObject(
      {
        code: 'invalid',
      },
    );
    await expect(
      platform.setTraffic?.([{ revision: 'barq-api-00099-zzz', percent: 100 }]),
    ).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('revision barq-api-00099-zzz not found for service barq-api'),
    });
    expect(patches()).toHaveLength(0);
  });

  it('waits through a roll-out in progress until the new revision serves', async () => {
    const platform = await started();
    fake.setReconcileMs(100);
    const deploying = fake.deploy('registry.example.com/app:v3');
    const mid = await platform.status();
    expect(mid.ready).toBe(false);
    expect(mid.reason).toContain('still rolling out');
    const settled = await platform.waitUntilSettled(SETTLE);
    await deploying;
    expect(settled.settled).toBe(true);
    expect((await platform.status()).image).toBe('registry.example.com/app:v3');
  });

  it('gives up waiting on a long-running operation at operationTimeoutMs with a timeout error', async () => {
    const platform = await started({ operationTimeoutMs: 60 });
    fake.setReconcileMs(5_000);
    await expect(platform.restart()).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('still working on'),
    });
  });

  it('an operation poll that fails after the wait was given up on is dropped, not thrown', async () => {
    const platform = await started({ operationTimeoutMs: 60 });
    fake.setReconcileMs(5_000);
    // The poll in flight when the adapter stops waiting fails later, with nobody listening.
    fake.delayNext(250, '/operations/');
    fake.failNext(503, 1, '/operations/');
    await expect(platform.restart()).rejects.toMatchObject({ code: 'timeout' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(fake.requests.filter((r) => r.path.includes('/operations/')).length).toBeGreaterThan(0);
  });

  it('history is newest first, limited, and says who deployed', async () => {
    const platform = await started();
    await fake.deploy('registry.example.com/app:v3', { creator: 'alice@barq.example' });
    const history = await platform.history(2);
    expect(history.map((r) => r.image)).toEqual(['registry.example.com/app:v3', V2]);
    expect(history[0]).toMatchObject({ current: true, cause: 'deployed by alice@barq.example' });
    expect(history[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('says there is nothing to roll back to when no older ready revision exists', async () => {
    fake = await startCloudRunFake();
    await fake.deploy(V1);
    const platform = platformFor(fake);
    await expect(platform.rollback()).rejects.toMatchObject({ code: 'not_found' });
  });

  it('names the service and coordinates when the service does not exist', async () => {
    fake = await startCloudRunFake();
    const platform = platformFor(fake);
    await expect(platform.status()).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('service barq-api not found in project barq-prod, region me-central1'),
    });
  });

  it('names the missing IAM permission when an update is denied', async () => {
    const platform = await started();
    fake.deny('run.services.update');
    const error = await platform.setMaintenance(true).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'permission_denied', transient: false, status: 403 });
    expect((error as Error).message).toMatch(
      /^permission denied: the bot's identity needs run\.services\.update/,
    );
  });

  it('reports rejected credentials without leaking the token', async () => {
    const platform = await started({ authClient: authFor('stale-token-abc') });
    const error = await platform.status().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthenticated' });
    expect((error as Error).message).not.toContain('stale-token-abc');
    expect(JSON.stringify((error as PlatformError).cause)).not.toContain('stale-token-abc');
  });

  it('retries transient errors a bounded number of times', async () => {
    const platform = await started({ retry: { baseDelayMs: 1, attempts: 3 } });
    const sent = fake.requests.length;
    fake.failNext(503, 10);
    await expect(platform.status()).rejects.toMatchObject({ code: 'unavailable', transient: true });
    expect(fake.requests.length - sent).toBe(3);
  });

  it('retries a transient error while polling the operation, without updating twice', async () => {
    const platform = await started();
    const original = fake.requests.length;
    fake.failNext(503, 1, '/operations/');
    const result = await platform.setMaintenance(true);
    expect(result.changed).toBe(true);
    const sent = fake.requests.slice(original);
    expect(sent.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(sent.filter((r) => r.path.includes('/operations/')).length).toBeGreaterThanOrEqual(2);
    expect((await platform.status()).maintenance).toBe(true);
  });
});

describe('cloudrun failed deploys and credentials', () => {
  const V2 = 'registry.example.com/app:v2';
  let fake: CloudRunFake;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await fake.close();
  });

  /** Lets any promise the SDK left behind settle, so that vitest sees an unhandled rejection. */
  const drain = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

  function cloudRunCalls(): number {
    return fake.requests.filter((r) => r.path.startsWith('/v2/')).length;
  }

  it('a failed deploy is settled-and-failed at once, in Cloud Run’s own words', async () => {
    fake = await startCloudRunFake({ reconcileMs: 5 });
    await fake.deploy('registry.example.com/app:v1');
    await fake.deploy(V2);
    await fake.deployBroken('registry.example.com/app:broken');
    // Cloud Run v2's failed reconciliation (service.proto, on `reconciling`).
    const service = fake.serviceResource() ?? {};
    const terminal = service.terminalCondition as { state: string; message: string };
    expect(service.reconciling).toBe(false);
    expect(terminal.state).toBe('CONDITION_FAILED');
    expect(Number(service.observedGeneration)).toBeLessThan(Number(service.generation));
    expect(service.latestCreatedRevision).not.toBe(service.latestReadyRevision);

    const platform = platformFor(fake);
    const status = await platform.status();
    expect(status).toMatchObject({ ready: false, image: V2 });
    expect(status.reason).toContain(terminal.message);
    const timeoutMs = 60_000;
    const settled = await platform.waitUntilSettled({ timeoutMs, pollMs: 10 });
    expect(settled.settled).toBe(false);
    expect(settled.detail).toContain(terminal.message);
    expect(settled.waitedMs).toBeLessThan(timeoutMs);
  });

  it('without Application Default Credentials: authentication, naming the service, and the process lives on', async () => {
    fake = await startCloudRunFake();
    await fake.deploy(V2);
    const keys = ['GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'GCE_METADATA_HOST'] as const;
    const saved = keys.map((key) => [key, process.env[key]] as const);
    const home = mkdtempSync(join(tmpdir(), 'no-adc-'));
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.CLOUDSDK_CONFIG = home;
    // Nothing listens there: the metadata server is unreachable, as off Google Cloud.
    process.env.GCE_METADATA_HOST = '127.0.0.1:9';
    closers.push(async () => {
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(home, { recursive: true, force: true });
    });
    const platform = platformFor(fake, { authClient: undefined });
    for (const attempt of [1, 2]) {
      const error = await platform.status().catch((e: unknown) => e);
      expect(error, `attempt ${attempt}`).toBeInstanceOf(PlatformError);
      expect(error).toMatchObject({ code: 'unauthenticated', transient: false });
      expect((error as Error).message).toMatch(
        /^could not get a Google access token for barq-api: no Application Default Credentials found/,
      );
    }
    await drain();
    expect(cloudRunCalls()).toBe(0);
  });

  it('a refused token is an authentication problem, not a missing Cloud Run permission', async () => {
    fake = await startCloudRunFake();
    await fake.deploy(V2);
    const auth = new OAuth2Client({
      clientId: 'runbook-bot',
      clientSecret: 'not-a-secret',
      endpoints: { oauth2TokenUrl: fake.tokenUrl },
    });
    auth.setCredentials({ refresh_token: fake.refreshToken });
    const platform = platformFor(fake, { authClient: auth });
    expect((await platform.status()).image).toBe(V2);

    fake.refuseTokens(403, 'access_denied', 'Account restricted.');
    auth.setCredentials({ refresh_token: fake.refreshToken });
    const sent = cloudRunCalls();
    const error = await platform.status().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthenticated', transient: false });
    expect((error as Error).message).toMatch(
      /^could not get a Google access token for barq-api: the token endpoint refused \(HTTP 403\): access_denied: Account restricted/,
    );
    expect((error as Error).message).not.toContain('run.services.get');
    expect(JSON.stringify((error as PlatformError).cause)).not.toContain(fake.refreshToken);
    expect(cloudRunCalls()).toBe(sent);
    await drain();
  });

  it('gives up on a credential source that never answers within tokenTimeoutMs', async () => {
    fake = await startCloudRunFake();
    await fake.deploy(V2);
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const auth = new OAuth2Client({
      endpoints: { oauth2TokenUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token` },
    });
    auth.setCredentials({ refresh_token: fake.refreshToken });
    const platform = platformFor(fake, { authClient: auth, tokenTimeoutMs: 100 });
    const error = await platform.status().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthenticated' });
    expect((error as Error).message).toContain(
      'could not get a Google access token for barq-api: no answer from the credential source (metadata server or token endpoint) within 0.1 s',
    );
    expect(cloudRunCalls()).toBe(0);
  });
});
