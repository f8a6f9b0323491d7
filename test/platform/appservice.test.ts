import { Agent, request as httpsRequest } from 'node:https';
import type { TokenCredential } from '@azure/identity';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { type ServiceConfig, serviceSchema } from '../../src/config/schema.ts';
import {
  type AppServiceFake,
  type AppServiceFakeOptions,
  startAppServiceFake,
} from '../../src/local/platforms/appservice/server.ts';
import { DEPLOYMENT_STATUS } from '../../src/local/platforms/appservice/state.ts';
import {
  type AppServicePlatformOptions,
  createAppServicePlatform,
} from '../../src/platform/appservice/appservice-platform.ts';
import { PlatformError } from '../../src/platform/errors.ts';
import type { Platform } from '../../src/platform/platform.ts';
import { describePlatformContract, type PlatformHarness } from './contract.ts';

/** A TokenCredential with a fixed token: the SDK's documented way to authenticate in tests. */
function staticCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

/** What @azure/identity's DefaultAzureCredential throws where it finds no identity (matched by name). */
class CredentialUnavailableError extends Error {
  override name = 'CredentialUnavailableError';
}

function unavailableCredential(): TokenCredential {
  return {
    getToken: async () => {
      throw new CredentialUnavailableError(
        'DefaultAzureCredential failed to retrieve a token from the included credentials.',
      );
    },
  };
}

interface Setup {
  fake: AppServiceFake;
  platform: Platform;
  service: ServiceConfig;
  close(): Promise<void>;
}

async function setup(
  options: {
    fake?: AppServiceFakeOptions;
    platform?: AppServicePlatformOptions;
    token?: string;
    scaling?: { min: number; max: number };
  } = {},
): Promise<Setup> {
  const fake = await startAppServiceFake({ warmupMs: 20, ...options.fake });
  // Trusts the fake's throw-away certificate: the SDK sends bearer tokens over https only.
  const agent = new Agent({ ca: fake.certificate, keepAlive: true });
  const service = serviceSchema.parse({
    name: 'fleet-api',
    platform: {
      kind: 'appservice',
      subscriptionId: fake.subscriptionId,
      resourceGroup: fake.resourceGroup,
      app: fake.app,
      ...(fake.slot ? { slot: fake.slot } : {}),
      endpoint: fake.url,
    },
    scaling: options.scaling ?? { min: 1, max: 10 },
  });
  const platform = createAppServicePlatform(service, {
    credential: staticCredential(options.token ?? fake.token),
    clientOptions: { agent },
    retry: { baseDelayMs: 1 },
    operationPollMs: 5,
    ...options.platform,
  });
  return {
    fake,
    platform,
    service,
    async close() {
      agent.destroy();
      await fake.close();
    },
  };
}

describePlatformContract('appservice', async (): Promise<PlatformHarness> => {
  const s = await setup();
  return {
    platform: s.platform,
    deploy: async (image) => {
      await s.fake.deploy(image);
    },
    deployBroken: async (image) => {
      await s.fake.deployBroken(image);
    },
    // Kudu's record of the deployment, status 3 (Failed).
    deployFailed: async (image) => `deployment ${await s.fake.deployBroken(image)} is Failed`,
    failNext: (status, times) => s.fake.failNext(status, times),
    serviceName: 'fleet-api',
    withoutCredentials: () =>
      createAppServicePlatform(s.service, {
        credential: unavailableCredential(),
        clientOptions: { agent: new Agent({ ca: s.fake.certificate }) },
        retry: { baseDelayMs: 1 },
      }),
    apiRequests: () => s.fake.requests.length,
    close: () => s.close(),
  };
});

describe('appservice platform', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const SETTLE = { timeoutMs: 5_000, pollMs: 10 };

  it('speaks ARM: bearer token, api-version, and a slot swap as a long-running operation', async () => {
    s = await setup({ fake: { swapPolls: 2 } });
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    const result = await s.platform.rollback();
    expect(result.summary).toContain('by swapping slot staging into production');
    const calls = s.fake.requests.map(
      (r) => `${r.method} ${r.status} ${r.path.replace(/^.*\/sites\/fleet-api/, '')}`,
    );
    const swapAt = calls.findIndex((c) => c.startsWith('POST 202 /slotsswap'));
    expect(swapAt).toBeGreaterThan(-1);
    const after = calls.slice(swapAt + 1);
    expect(after.filter((c) => c.startsWith('GET 200 /operations/'))).toHaveLength(3);
    expect(after.at(-1)).toMatch(/^GET 200 \/operationresults\//);
    expect(s.fake.requests.every((r) => r.apiVersion === '2025-05-01')).toBe(true);
    expect(s.fake.requests.find((r) => r.path.endsWith('/slotsswap'))?.body).toEqual({
      targetSlot: 'staging',
      preserveVnet: true,
    });
    expect(s.fake.site().image).toBe('registry.example.com/app:v1');
    expect(s.fake.site('staging').image).toBe('registry.example.com/app:v2');
  });

  it('reports the platform reason and the plan workers in status', async () => {
    s = await setup({ fake: { capacity: 3 } });
    await s.fake.deploy('registry.example.com/app:v1');
    const ok = await s.platform.status();
    expect(ok).toMatchObject({
      kind: 'appservice',
      ready: true,
      replicas: { desired: 3, ready: 3 },
      image: 'registry.example.com/app:v1',
      revision: s.fake.site().deployments[0]?.id,
    });
    expect(ok.target).toContain('app fleet-api, resource group fleet-rg');
    s.fake.model.mustSlot('production').state = 'Stopped';
    const stopped = await s.platform.status();
    expect(stopped.ready).toBe(false);
    expect(stopped.reason).toContain('the app is Stopped');
    expect(stopped.replicas).toEqual({ desired: 3, ready: 0 });
  });

  it('says why a broken deploy is not ready, and swaps back to the last good content', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    const broken = await s.fake.deployBroken('registry.example.com/app:broken');
    const status = await s.platform.status();
    expect(status.ready).toBe(false);
    expect(status.reason).toContain('availability is Limited');
    expect(status.reason).toContain(`deployment ${broken} is Failed`);
    const result = await s.platform.rollback();
    expect(result.from).toBe(broken);
    expect((await s.platform.waitUntilSettled(SETTLE)).settled).toBe(true);
    expect((await s.platform.status()).image).toBe('registry.example.com/app:v1');
    // The slot now holds the failed deployment: swapping again would bring it back.
    await expect(s.platform.rollback()).rejects.toMatchObject({ code: 'conflict' });
  });

  it('rolls back to the slot’s deployment by swap, and to an older one by redeploying its image', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    await s.fake.deploy('registry.example.com/app:v3');
    const history = await s.platform.history(10);
    expect(history.map((r) => r.image)).toEqual([
      'registry.example.com/app:v3',
      'registry.example.com/app:v2',
      'registry.example.com/app:v1',
    ]);
    expect(history[0]?.cause).toBe('ci via GitHub Actions: Deploy registry.example.com/app:v3');
    const v2 = history[1]!;
    const swapped = await s.platform.rollback({ toRevision: v2.id });
    expect(swapped.to).toBe(v2.id);
    expect(swapped.summary).toContain('swapping slot staging');
    const v1 = history[2]!;
    const redeployed = await s.platform.rollback({ toRevision: v1.id });
    expect(redeployed.summary).toContain(`a redeploy of deployment ${v1.id}`);
    expect((await s.platform.waitUntilSettled(SETTLE)).settled).toBe(true);
    const after = await s.platform.history(1);
    expect(after[0]).toMatchObject({
      id: redeployed.to,
      image: 'registry.example.com/app:v1',
      current: true,
    });
    expect(after[0]?.cause).toContain('runbook-bot');
    const again = await s.platform.rollback({ toRevision: redeployed.to });
    expect(again.changed).toBe(false);
  });

  it('refuses to "roll back" onto a build staged in the slot and never released, production untouched', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    const v2 = await s.fake.deploy('registry.example.com/app:v2');
    const staged = await s.fake.stage('registry.example.com/app:v3-rc1');
    for (const attempt of [s.platform.rollback(), s.platform.rollback({ toRevision: staged })]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformError);
      expect(error).toMatchObject({ code: 'conflict', transient: false });
      expect((error as Error).message).toContain(
        `slot staging holds deployment ${staged} (registry.example.com/app:v3-rc1)`,
      );
      expect((error as Error).message).toContain('production has never run it');
      expect((error as Error).message).toContain('Production was left as it is');
    }
    expect(s.fake.requests.some((r) => r.path.endsWith('/slotsswap'))).toBe(false);
    expect(s.fake.site()).toMatchObject({ image: 'registry.example.com/app:v2' });
    expect(s.fake.site().deployments[0]?.id).toBe(v2);
    expect(s.fake.site('staging').image).toBe('registry.example.com/app:v3-rc1');
  });

  it('rolls back by swap only to what production ran just before', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    const site = await s.platform.status();
    expect(site.image).toBe('registry.example.com/app:v2');
    const result = await s.platform.rollback();
    expect(result.summary).toContain(
      '(registry.example.com/app:v1) by swapping slot staging into production',
    );
    expect(s.fake.site().image).toBe('registry.example.com/app:v1');

    // A slot never swapped with production holds nothing production ran.
    const fresh = await setup();
    try {
      const never = await fresh.platform.rollback().catch((e: unknown) => e);
      expect(never).toMatchObject({ code: 'conflict' });
      expect((never as Error).message).toContain('Azure reports no swap for it');
      expect(fresh.fake.requests.some((r) => r.path.endsWith('/slotsswap'))).toBe(false);
    } finally {
      await fresh.close();
    }
  });

  it('refuses the swap when the slot or production changed after the last swap', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    await s.fake.deploy('registry.example.com/app:v3');
    // Someone points the slot at another image without recording a deployment.
    const staging = s.fake.model.mustSlot('staging');
    staging.linuxFxVersion = 'DOCKER|registry.example.com/app:hotfix';
    const changed = await s.platform.rollback().catch((e: unknown) => e);
    expect((changed as Error).message).toContain(
      'slot staging runs registry.example.com/app:hotfix, but its last deployment record',
    );
    staging.linuxFxVersion = 'DOCKER|registry.example.com/app:v2';
    // A rollback by redeploy changes production after the swap: the slot now holds v2, which is
    // not what production ran just before (v3).
    const v1 = (await s.platform.history()).find((r) => r.image === 'registry.example.com/app:v1');
    await s.platform.rollback({ toRevision: v1?.id ?? '' });
    const moved = await s.platform.rollback().catch((e: unknown) => e);
    expect(moved).toMatchObject({ code: 'conflict' });
    expect((moved as Error).message).toContain('production changed after its last swap with slot staging');
    expect(s.fake.site().image).toBe('registry.example.com/app:v1');
    expect(s.fake.requests.some((r) => r.path.endsWith('/slotsswap'))).toBe(false);
  });

  it('without a slot, refuses a rollback without target and redeploys a given one', async () => {
    s = await setup({ fake: { slot: null } });
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    const error = await s.platform.rollback().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect(error).toMatchObject({ code: 'unsupported' });
    expect((error as PlatformError).message).toContain('platform.slot');
    const v1 = (await s.platform.history()).find((r) => r.image === 'registry.example.com/app:v1')!;
    await s.platform.rollback({ toRevision: v1.id });
    expect((await s.platform.waitUntilSettled(SETTLE)).settled).toBe(true);
    expect((await s.platform.status()).image).toBe('registry.example.com/app:v1');
    expect(s.fake.requests.some((r) => r.path.endsWith('/slotsswap'))).toBe(false);
  });

  it('writes back every app setting when toggling maintenance (PUT replaces the whole set)', async () => {
    s = await setup();
    s.fake.model.mustSlot('production').appSettings = { DATABASE_URL: 'postgres://db', FEATURE_X: 'on' };
    await s.platform.setMaintenance(true);
    expect(s.fake.site().appSettings).toEqual({
      DATABASE_URL: 'postgres://db',
      FEATURE_X: 'on',
      MAINTENANCE_MODE: 'true',
    });
    expect(
      s.fake.requests.some((r) => r.method === 'POST' && r.path.endsWith('/config/appsettings/list')),
    ).toBe(true);
    const off = await s.platform.setMaintenance(false);
    expect(off).toMatchObject({ from: 'on', to: 'off', changed: true });
    expect(s.fake.site().appSettings).toEqual({ DATABASE_URL: 'postgres://db', FEATURE_X: 'on' });
  });

  it('makes maintenance a slot setting, so a swap afterwards leaves it with production', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    // Already sticky before: an app setting and a connection string, both kept.
    s.fake.model.stickySettings.add('DATABASE_URL');
    s.fake.model.stickyConnectionStrings = ['MainDb'];
    const production = s.fake.model.mustSlot('production');
    production.appSettings = { DATABASE_URL: 'postgres://prod', FEATURE_X: 'on' };
    s.fake.model.mustSlot('staging').appSettings = { DATABASE_URL: 'postgres://staging' };

    await s.platform.setMaintenance(true);
    const put = s.fake.requests.find((r) => r.method === 'PUT' && /\/config\/slotConfigNames$/i.test(r.path));
    expect(put?.body).toMatchObject({
      properties: {
        appSettingNames: ['DATABASE_URL', 'MAINTENANCE_MODE'],
        connectionStringNames: ['MainDb'],
      },
    });
    expect([...s.fake.model.stickySettings]).toEqual(['DATABASE_URL', 'MAINTENANCE_MODE']);
    expect(s.fake.model.stickyConnectionStrings).toEqual(['MainDb']);

    // The rollback swaps staging (v1) into production: the content moves, maintenance stays put.
    await s.platform.rollback();
    expect(s.fake.site().image).toBe('registry.example.com/app:v1');
    expect(s.fake.site().appSettings).toEqual({ DATABASE_URL: 'postgres://prod', MAINTENANCE_MODE: 'true' });
    expect(s.fake.model.mustSlot('staging').appSettings).toEqual({
      DATABASE_URL: 'postgres://staging',
      FEATURE_X: 'on',
    });
    expect((await s.platform.status()).maintenance).toBe(true);

    // Turning it off removes the value and keeps the name sticky; on again writes no second PUT.
    await s.platform.setMaintenance(false);
    expect(s.fake.model.stickySettings.has('MAINTENANCE_MODE')).toBe(true);
    await s.platform.setMaintenance(true);
    const puts = s.fake.requests.filter(
      (r) => r.method === 'PUT' && /\/config\/slotConfigNames$/i.test(r.path),
    );
    expect(puts).toHaveLength(1);
  });

  it('serves slotConfigNames once per app: GET and PUT on the site, none on a slot', async () => {
    s = await setup();
    const base = `/subscriptions/${s.fake.subscriptionId}/resourceGroups/${s.fake.resourceGroup}/providers/Microsoft.Web/sites/${s.fake.app}`;
    const fake = s.fake;
    const call = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const req = httpsRequest(
          `${fake.url}${path}?api-version=2024-04-01`,
          {
            method,
            ca: fake.certificate,
            headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    const empty = await call('GET', `${base}/config/slotConfigNames`);
    expect(empty.status).toBe(200);
    expect(empty.body.properties).toEqual({
      appSettingNames: null,
      connectionStringNames: null,
      azureStorageConfigNames: null,
    });
    const put = await call('PUT', `${base}/config/slotConfigNames`, {
      properties: { appSettingNames: ['A'], azureStorageConfigNames: ['files'] },
    });
    expect(put.body.properties).toEqual({
      appSettingNames: ['A'],
      connectionStringNames: null,
      azureStorageConfigNames: ['files'],
    });
    expect((await call('GET', `${base}/slots/staging/config/slotConfigNames`)).status).toBe(404);
    expect(
      (await call('PUT', `${base}/config/slotConfigNames`, { properties: { appSettingNames: 'A' } })).status,
    ).toBe(400);
  });

  it('scales the plan within the configured bounds and the plan tier', async () => {
    s = await setup({ fake: { capacity: 2, maximumNumberOfWorkers: 4 }, scaling: { min: 2, max: 8 } });
    await expect(s.platform.scale(9)).rejects.toMatchObject({ code: 'invalid' });
    await expect(s.platform.scale(1)).rejects.toMatchObject({ code: 'invalid' });
    await expect(s.platform.scale(2.5)).rejects.toMatchObject({ code: 'invalid' });
    expect(s.fake.requests).toHaveLength(0);
    await expect(s.platform.scale(6)).rejects.toThrow(/allows at most 4/);
    const same = await s.platform.scale(2);
    expect(same.changed).toBe(false);
    const up = await s.platform.scale(4);
    expect(up).toMatchObject({ from: '2 workers', to: '4 workers', changed: true });
    expect(s.fake.capacity()).toBe(4);
    expect(s.fake.requests.find((r) => r.method === 'PUT')?.path).toMatch(/\/serverfarms\/fleet-api-plan$/);
  });

  it('starts a stopped app when asked to restart it, and restarts a running one', async () => {
    s = await setup();
    s.fake.model.mustSlot('production').state = 'Stopped';
    expect(await s.platform.restart()).toMatchObject({ from: 'Stopped', to: 'Running' });
    expect(s.fake.site().state).toBe('Running');
    await s.platform.restart();
    expect(s.fake.site().restarts).toBe(2);
  });

  it('retries a failed poll of the swap without swapping twice', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    s.fake.failNext(503, 1, { path: /\/operations\// });
    s.fake.failNext(429, 1, { method: 'POST', path: /\/slotsswap$/ });
    await s.platform.rollback();
    const swaps = s.fake.requests.filter((r) => r.path.endsWith('/slotsswap'));
    expect(swaps.map((r) => r.status)).toEqual([429, 202]);
    expect(s.fake.site().image).toBe('registry.example.com/app:v1');
  });

  it('reports a swap that Azure ends as Failed, with the slots unchanged', async () => {
    s = await setup();
    await s.fake.deploy('registry.example.com/app:v1');
    await s.fake.deploy('registry.example.com/app:v2');
    s.fake.model.nextSwapFailure = { code: 'SwapFailed', message: 'Warm-up of slot staging timed out.' };
    const error = await s.platform.rollback().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'conflict', transient: false });
    expect((error as Error).message).toContain('swap slot staging into production');
    expect((error as Error).message).toContain('Warm-up of slot staging timed out');
    expect(s.fake.site().image).toBe('registry.example.com/app:v2');
  });

  it('answers a change during a running swap with a typed conflict', async () => {
    s = await setup();
    s.fake.model.startSwap('staging', 'production', 1_000);
    const error = await s.platform.setMaintenance(true).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'conflict', status: 409, transient: false });
    expect((error as Error).message).toContain('another operation');
  });

  it('words 403 and 404 for a responder: the permission needed, the coordinates to check', async () => {
    s = await setup();
    s.fake.failNext(403, 1, { method: 'POST', path: /\/restart$/ });
    const denied = await s.platform.restart().catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'permission_denied' });
    expect((denied as Error).message).toContain('needs Microsoft.Web/sites/restart/action on app fleet-api');
    s.fake.failNext(404, 1, { path: /\/sites\/fleet-api$/ });
    const missing = await s.platform.restart().catch((e: unknown) => e);
    expect((missing as Error).message).toContain('app fleet-api not found in resource group fleet-rg');
  });

  it('reports a wrong token as unauthenticated, without the token in the message', async () => {
    s = await setup({ token: 'not-the-token' });
    const error = await s.platform.status().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthenticated', transient: false });
    expect((error as Error).message).not.toContain('not-the-token');
    expect(JSON.stringify((error as Error).cause)).not.toContain('not-the-token');
  });

  it('gives up on a credential that never answers within credentialTimeoutMs, as authentication', async () => {
    s = await setup({
      platform: { credential: { getToken: () => new Promise(() => undefined) }, credentialTimeoutMs: 100 },
    });
    const error = await s.platform.status().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthenticated', transient: false });
    expect((error as Error).message).toContain('could not get an Azure token for the bot');
    expect((error as Error).message).toContain('no token within 0.1 s');
    expect(s.fake.requests).toHaveLength(0);
  });

  it('times out a request that never gets an answer, as a transient timeout', async () => {
    s = await setup({ platform: { requestTimeoutMs: 100, retry: { attempts: 2, baseDelayMs: 1 } } });
    s.fake.stallNext(2);
    await expect(s.platform.restart()).rejects.toMatchObject({ code: 'timeout', transient: true });
  });

  it('follows nextLink through pages of deployments', async () => {
    s = await setup({ fake: { slot: null, pageSize: 2 } });
    for (const v of [1, 2, 3, 4, 5]) await s.fake.deploy(`registry.example.com/app:v${v}`);
    const history = await s.platform.history(10);
    expect(history.map((r) => r.image)).toEqual([5, 4, 3, 2, 1].map((v) => `registry.example.com/app:v${v}`));
    expect(s.fake.requests.filter((r) => r.path.endsWith('/deployments')).length).toBe(3);
  });

  it('gives up waiting at the deadline of its clock', async () => {
    const clock = new ManualClock('2026-03-02T10:00:00Z');
    s = await setup({ platform: { clock, sleep: async (ms) => clock.advance(ms) } });
    await s.fake.deploy('registry.example.com/app:v1');
    // A deployment Kudu is still working on (status 2, Deploying) that never finishes.
    const production = s.fake.model.mustSlot('production');
    s.fake.model.addDeployment(production, {
      id: 'f00dfeed',
      status: DEPLOYMENT_STATUS.deploying,
      message: 'Deploy registry.example.com/app:v2',
      author: 'ci',
      deployer: 'GitHub Actions',
      authorEmail: undefined,
      startTime: s.fake.model.timestamp(),
      endTime: undefined,
      active: false,
      details: 'DOCKER|registry.example.com/app:v2',
    });
    const result = await s.platform.waitUntilSettled({ timeoutMs: 60_000, pollMs: 15_000 });
    expect(result).toMatchObject({ settled: false, waitedMs: 60_000 });
    expect(result.detail).toContain('did not settle within 60000 ms');
  });

  it('refuses a plain-http endpoint up front: the SDK never sends a token over http', () => {
    const service = serviceSchema.parse({
      name: 'fleet-api',
      platform: {
        kind: 'appservice',
        subscriptionId: 's',
        resourceGroup: 'rg',
        app: 'a',
        endpoint: 'http://127.0.0.1:1',
      },
    });
    expect(() => createAppServicePlatform(service)).toThrow(/must be an https URL/);
  });
});
