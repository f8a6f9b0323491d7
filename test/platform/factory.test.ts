import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { createPlatform, PlatformRegistry } from '../../src/platform/factory.ts';

describe('platform factory', () => {
  it('builds the adapter of each configured platform kind behind one interface', async () => {
    const config = parseConfigText(`
services:
  - {name: a, platform: {kind: cloudrun, project: p, region: r, service: a}}
  - {name: b, platform: {kind: appservice, subscriptionId: s, resourceGroup: g, app: b}}
  - {name: c, platform: {kind: kubernetes, namespace: n, deployment: c, endpoint: "https://127.0.0.1:6443"}}
`);
    const platforms = await Promise.all(config.services.map((s) => createPlatform(s)));
    expect(platforms.map((p) => p.kind)).toEqual(['cloudrun', 'appservice', 'kubernetes']);
    const registry = new PlatformRegistry(config.services);
    const first = config.services[0]!;
    expect(await registry.for(first)).toBe(await registry.for(first));
  });
});

describe('platform registry shutdown', () => {
  it('closes every adapter it built (Cloud Run, App Service, Kubernetes fakes); later calls and asks are refused', async () => {
    const { startCloudRunFake } = await import('../../src/local/platforms/cloudrun/server.ts');
    const { startAppServiceFake } = await import('../../src/local/platforms/appservice/server.ts');
    const { startKubernetesFake } = await import('../../src/local/platforms/kubernetes/server.ts');
    const { OAuth2Client } = await import('google-auth-library');
    const { Agent } = await import('node:https');
    const { KubeConfig } = await import('@kubernetes/client-node');
    const cloudrun = await startCloudRunFake({ reconcileMs: 5 });
    await cloudrun.deploy('registry.example.com/app:v1');
    const appservice = await startAppServiceFake({ warmupMs: 5 });
    await appservice.deploy('registry.example.com/app:v1');
    const kube = await startKubernetesFake({
      namespace: 'prod',
      deployment: 'c',
      container: 'c',
      token: 't',
    });
    await kube.deploy('registry.example.com/app:v1');
    const agent = new Agent({ ca: appservice.certificate, keepAlive: true });
    try {
      const config = parseConfigText(`
services:
  - {name: a, platform: {kind: cloudrun, project: ${cloudrun.project}, region: ${cloudrun.region}, service: ${cloudrun.service}, endpoint: "${cloudrun.url}"}}
  - {name: b, platform: {kind: appservice, subscriptionId: ${appservice.subscriptionId}, resourceGroup: ${appservice.resourceGroup}, app: ${appservice.app}, slot: ${appservice.slot}, endpoint: "${appservice.url}"}}
  - {name: c, platform: {kind: kubernetes, namespace: prod, deployment: c, container: c, endpoint: "${kube.url}"}}
`);
      const registry = new PlatformRegistry(config.services, undefined, {
        cloudrun: async () => {
          const authClient = new OAuth2Client();
          authClient.setCredentials({
            access_token: cloudrun.accessToken,
            expiry_date: Date.now() + 3_600_000,
          });
          return { authClient };
        },
        appservice: async () => ({
          credential: {
            getToken: async () => ({ token: appservice.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
          },
          clientOptions: { agent },
        }),
        kubernetes: async () => {
          const kubeConfig = new KubeConfig();
          kubeConfig.loadFromOptions({
            clusters: [{ name: 'k', server: kube.url, skipTLSVerify: true }],
            users: [{ name: 'u', token: 't' }],
            contexts: [{ name: 'k', cluster: 'k', user: 'u', namespace: 'prod' }],
            currentContext: 'k',
          });
          return { kubeConfig };
        },
      });
      const platforms = await Promise.all(config.services.map((s) => registry.for(s)));
      for (const platform of platforms)
        expect((await platform.status()).image).toBe('registry.example.com/app:v1');
      await registry.close();
      for (const platform of platforms) {
        await expect(platform.status()).rejects.toMatchObject({
          name: 'PlatformError',
          code: 'unavailable',
          message: expect.stringContaining('adapter is closed (the bot is stopping): nothing was sent'),
        });
      }
      await expect(registry.for(config.services[0]!)).rejects.toMatchObject({ code: 'unavailable' });
      await registry.close();
    } finally {
      agent.destroy();
      await Promise.all([cloudrun.close(), appservice.close(), kube.close()]);
    }
  });
});
