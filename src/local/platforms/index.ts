import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import type { Clock } from '../../clock.ts';
import type { ServiceConfig } from '../../config/schema.ts';
import type { AppServicePlatformOptions } from '../../platform/appservice/appservice-platform.ts';
import type { CloudRunPlatformOptions } from '../../platform/cloudrun/cloudrun-platform.ts';
import type { PlatformOptionsSource } from '../../platform/factory.ts';
import type { KubernetesPlatformOptions } from '../../platform/kubernetes/kubernetes-platform.ts';
import type { PlatformKind } from '../../platform/platform.ts';
import { type AppsServer, type SimulatedApp, startAppsServer } from './apps.ts';
import { type AppServiceFake, startAppServiceFake } from './appservice/server.ts';
import { type CloudRunFake, startCloudRunFake } from './cloudrun/server.ts';
import type { Json } from './cloudrun/state.ts';
import { type KubernetesFake, startKubernetesFake } from './kubernetes/server.ts';
import { type Release, releasesFor, type Serving } from './releases.ts';

/**
 * Local mode's clouds: for each configured service, an in-process simulator of its platform
 * (the Cloud Run Admin API, Azure Resource Manager for App Service, a Kubernetes API server) on a
 * random 127.0.0.1 port, seeded with a few releases (the current one broken: see releases.ts), and
 * one server for the services' own health endpoints and Prometheus. The bot's real SDK adapters
 * talk to them over the real wire protocols, with throw-away credentials handed out through
 * `adapters`: nothing reaches a real cloud.
 */

export interface SimulatedService {
  name: string;
  environment: string;
  kind: PlatformKind;
  /** The platform API's base URL (the service's `platform.endpoint` in local mode). */
  apiUrl: string;
  /** The service's own base URL on the apps server (its health endpoints, its Prometheus). */
  appUrl: string;
  /** Its `/health` endpoint. */
  healthUrl: string;
  releases: readonly Release[];
  /** What its platform serves right now. */
  serving(): Serving;
  /** A CI deploy of `image` (a release's, or one of your own), settled. */
  deploy(image: string): Promise<void>;
}

export interface LocalPlatformsInfo {
  /** Base URL of the simulated services' health endpoints and Prometheus. */
  appsUrl: string;
  services: { name: string; environment: string; kind: PlatformKind; api: string; health: string }[];
}

export interface LocalPlatforms {
  appsUrl: string;
  services: SimulatedService[];
  /** Credentials (and the App Service simulator's certificate) for the SDK adapters. */
  adapters: PlatformOptionsSource;
  find(service: Pick<ServiceConfig, 'name' | 'environment'>): SimulatedService | undefined;
  info(): LocalPlatformsInfo;
  close(): Promise<void>;
}

const keyOf = (s: Pick<ServiceConfig, 'name' | 'environment'>) => `${s.name}/${s.environment}`;
const token = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`;

/** A clock the seeding turns back, so that seeded releases carry their release times. */
function seedClock(): Clock & { back(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() - offset),
    back(ms) {
      offset = ms;
    },
  };
}

function envValue(env: unknown, name: string): string | undefined {
  if (!Array.isArray(env)) return undefined;
  const entry = env.find((e): e is Json => typeof e === 'object' && e !== null && e.name === name);
  return typeof entry?.value === 'string' ? entry.value : undefined;
}

const isOn = (value: string | undefined) => value?.trim().toLowerCase() === 'true';

interface Started<Options> {
  sim: SimulatedService;
  /** The adapter's options, built when the bot first uses the service. */
  adapter: () => Promise<Options>;
  close(): Promise<void>;
}

interface Context {
  service: ServiceConfig;
  releases: Release[];
  /** The service's base URL on the apps server. */
  appUrl: string;
}

async function seed(
  releases: readonly Release[],
  clock: ReturnType<typeof seedClock>,
  ship: (r: Release) => Promise<void>,
) {
  for (const release of releases) {
    clock.back(release.agoMs);
    await ship(release);
  }
  clock.back(0);
}

async function startCloudRun({
  service,
  releases,
  appUrl,
}: Context): Promise<Started<CloudRunPlatformOptions>> {
  const p = service.platform;
  if (p.kind !== 'cloudrun') throw new Error('not a Cloud Run service');
  const clock = seedClock();
  const fake: CloudRunFake = await startCloudRunFake({
    project: p.project,
    region: p.region,
    service: p.service,
    accessToken: token('ya29.local'),
    refreshToken: token('1//local'),
    reconcileMs: 1,
    clock,
  });
  await seed(releases, clock, (r) =>
    fake.deploy(r.image, { creator: `ci-deployer@${p.project}.iam.gserviceaccount.com` }),
  );
  fake.setReconcileMs(300);
  const serving = (): Serving => {
    const resource = fake.serviceResource();
    const statuses = (resource?.trafficStatuses as Json[] | undefined) ?? [];
    const top = [...statuses].sort((a, b) => Number(b.percent ?? 0) - Number(a.percent ?? 0))[0];
    const name =
      top?.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'
        ? String(top.revision)
        : String(resource?.latestReadyRevision ?? '')
            .split('/')
            .pop();
    const revision = top && fake.revisions().find((r) => String(r.name).endsWith(`/${name}`));
    if (!revision) return { running: false, why: 'no revision serves traffic' };
    const container = (revision.containers as Json[] | undefined)?.[0];
    return {
      running: true,
      image: typeof container?.image === 'string' ? container.image : undefined,
      maintenance: isOn(envValue(container?.env, service.maintenanceEnvVar)),
    };
  };
  return {
    sim: simulated(service, fake.url, appUrl, releases, serving, (image) => fake.deploy(image)),
    adapter: async () => {
      // google-auth-library comes with the Cloud Run SDK; loaded when the adapter is first built.
      const { OAuth2Client } = await import('google-auth-library');
      const authClient = new OAuth2Client({ endpoints: { oauth2TokenUrl: fake.tokenUrl } });
      authClient.setCredentials({ refresh_token: fake.refreshToken });
      return { authClient, operationPollMs: 100 };
    },
    close: () => fake.close(),
  };
}

async function startAppService({
  service,
  releases,
  appUrl,
}: Context): Promise<Started<AppServicePlatformOptions>> {
  const p = service.platform;
  if (p.kind !== 'appservice') throw new Error('not an App Service service');
  const clock = seedClock();
  const fake: AppServiceFake = await startAppServiceFake({
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    app: p.app,
    ...(p.plan ? { plan: p.plan } : {}),
    slot: p.slot ?? null,
    token: token('eyJ0eXAi.local'),
    initialImage: releases[0]?.image ?? 'mcr.microsoft.com/appsvc/staticsite:latest',
    warmupMs: 300,
    now: () => clock.now(),
  });
  await seed(releases, clock, async (r) => {
    await fake.deploy(r.image, { author: 'ci', deployer: 'GitHub Actions' });
  });
  // Trusts the simulator's throw-away certificate, for the App Service adapter only: the Azure SDK
  // sends its bearer token over https only.
  const agent = new Agent({ ca: fake.certificate, keepAlive: true });
  const serving = (): Serving => {
    const site = fake.site();
    if (site.state !== 'Running') return { running: false, why: `the app is ${site.state}` };
    if (site.availabilityState !== 'Normal') return { running: false, why: 'the app is starting' };
    return {
      running: true,
      image: site.image,
      maintenance: isOn(site.appSettings[service.maintenanceEnvVar]),
    };
  };
  const credential = {
    getToken: async () => ({ token: fake.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  return {
    sim: simulated(service, fake.url, appUrl, releases, serving, async (image) => {
      await fake.deploy(image);
    }),
    adapter: async () => ({ credential, clientOptions: { agent }, operationPollMs: 100 }),
    async close() {
      agent.destroy();
      await fake.close();
    },
  };
}

async function startKubernetes({
  service,
  releases,
  appUrl,
}: Context): Promise<Started<KubernetesPlatformOptions>> {
  const p = service.platform;
  if (p.kind !== 'kubernetes') throw new Error('not a Kubernetes service');
  const clock = seedClock();
  const bearer = token('k8s-local');
  const container = p.container ?? service.name;
  const fake: KubernetesFake = await startKubernetesFake({
    namespace: p.namespace,
    deployment: p.deployment,
    container,
    replicas: Math.max(1, service.scaling.min),
    token: bearer,
    user: 'system:serviceaccount:runbook:runbook-bot',
    clock,
  });
  await seed(releases, clock, (r) => fake.deploy(r.image, { changeCause: `CI: ${r.version} (${r.note})` }));
  const serving = (): Serving => {
    const d = fake.deployment();
    const status = (d.status ?? {}) as Json;
    if (Number(status.availableReplicas ?? 0) === 0) return { running: false, why: 'no pod is available' };
    const containers = (((d.spec as Json).template as Json).spec as Json).containers as Json[];
    const c = containers.find((x) => x.name === container) ?? containers[0];
    return {
      running: true,
      image: typeof c?.image === 'string' ? c.image : undefined,
      maintenance: isOn(envValue(c?.env, service.maintenanceEnvVar)),
    };
  };
  return {
    sim: simulated(service, fake.url, appUrl, releases, serving, (image) => fake.deploy(image)),
    adapter: async () => {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kubeConfig = new KubeConfig();
      const context = p.context ?? 'local-simulator';
      kubeConfig.loadFromOptions({
        clusters: [{ name: 'local-simulator', server: fake.url, skipTLSVerify: true }],
        users: [{ name: 'runbook-bot', token: bearer }],
        contexts: [
          { name: context, cluster: 'local-simulator', user: 'runbook-bot', namespace: p.namespace },
        ],
        currentContext: context,
      });
      return { kubeConfig };
    },
    close: () => fake.close(),
  };
}

function simulated(
  service: ServiceConfig,
  apiUrl: string,
  appUrl: string,
  releases: readonly Release[],
  serving: () => Serving,
  deploy: (image: string) => Promise<void>,
): SimulatedService {
  return {
    name: service.name,
    environment: service.environment,
    kind: service.platform.kind,
    apiUrl,
    appUrl,
    healthUrl: `${appUrl}/health`,
    releases,
    serving,
    deploy,
  };
}

/** Starts and seeds one simulator per service (all in parallel) and the apps server. */
export async function startLocalPlatforms(services: readonly ServiceConfig[]): Promise<LocalPlatforms> {
  const apps = new Map<string, SimulatedApp>();
  const server: AppsServer = await startAppsServer(apps);
  const cloudrun = new Map<string, Started<CloudRunPlatformOptions>>();
  const appservice = new Map<string, Started<AppServicePlatformOptions>>();
  const kubernetes = new Map<string, Started<KubernetesPlatformOptions>>();
  const started: Started<unknown>[] = [];
  const settled = await Promise.allSettled(
    services.map(async (service) => {
      // By name; by name@environment where a name is configured in more than one environment.
      const shared = services.filter((s) => s.name === service.name).length > 1;
      const segment = shared ? `${service.name}@${service.environment}` : service.name;
      const appUrl = `${server.url}/${encodeURIComponent(segment)}`;
      const context: Context = { service, releases: releasesFor(service), appUrl };
      const key = keyOf(service);
      let entry: Started<unknown>;
      switch (service.platform.kind) {
        case 'cloudrun': {
          const s = await startCloudRun(context);
          cloudrun.set(key, s);
          entry = s;
          break;
        }
        case 'appservice': {
          const s = await startAppService(context);
          appservice.set(key, s);
          entry = s;
          break;
        }
        case 'kubernetes': {
          const s = await startKubernetes(context);
          kubernetes.set(key, s);
          entry = s;
          break;
        }
      }
      started.push(entry);
      apps.set(segment, {
        name: service.name,
        releases: entry.sim.releases,
        serving: entry.sim.serving,
      });
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled([server.close(), ...started.map((s) => s.close())]);
    throw failed.reason;
  }
  const from =
    <O>(map: Map<string, Started<O>>) =>
    (service: ServiceConfig): Promise<O> => {
      const entry = map.get(keyOf(service));
      if (!entry) return Promise.reject(new Error(`local mode simulates no service ${keyOf(service)}`));
      return entry.adapter();
    };
  const sims = services.flatMap((s) => started.find((x) => keyOf(x.sim) === keyOf(s))?.sim ?? []);
  return {
    appsUrl: server.url,
    services: sims,
    adapters: { cloudrun: from(cloudrun), appservice: from(appservice), kubernetes: from(kubernetes) },
    find: (service) => sims.find((s) => keyOf(s) === keyOf(service)),
    info: () => ({
      appsUrl: server.url,
      services: sims.map((sim) => ({
        name: sim.name,
        environment: sim.environment,
        kind: sim.kind,
        api: sim.apiUrl,
        health: sim.healthUrl,
      })),
    }),
    async close() {
      await server.close();
      await Promise.allSettled(started.map((s) => s.close()));
    },
  };
}
