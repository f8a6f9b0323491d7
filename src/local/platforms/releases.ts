import type { ServiceConfig } from '../../config/schema.ts';

/**
 * What local mode seeds each simulated service with: a few releases, oldest first, the last one
 * current. The current release is a broken one (its container runs, so the platform calls it ready,
 * but the app answers its health endpoint 503 and fails requests): `/deploy rollback` to the previous
 * release visibly turns health green.
 */
export interface Release {
  version: string;
  image: string;
  /** The app is healthy on this release. */
  good: boolean;
  /** Why it was released (the change cause, the deployer's note). */
  note: string;
  /** How long before start-up it was released. */
  agoMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A registry path that looks like the platform's own. */
function registryOf(service: ServiceConfig): string {
  const p = service.platform;
  switch (p.kind) {
    case 'cloudrun':
      return `${p.region}-docker.pkg.dev/${p.project}/images`;
    case 'appservice':
      return `${p.app.replace(/[^a-z0-9]/gi, '').toLowerCase()}.azurecr.io`;
    case 'kubernetes':
      return `registry.example.com/${p.namespace}`;
  }
}

export function releasesFor(service: ServiceConfig): Release[] {
  const image = (version: string) => `${registryOf(service)}/${service.name}:${version}`;
  return [
    { version: 'v1.0.0', good: true, note: 'first release', agoMs: 21 * DAY },
    { version: 'v1.1.0', good: true, note: 'search filters', agoMs: 9 * DAY },
    { version: 'v1.2.0', good: true, note: 'faster checkout', agoMs: 3 * DAY },
    { version: 'v1.3.0', good: false, note: 'new order pipeline', agoMs: 25 * 60_000 },
  ].map((r) => ({ ...r, image: image(r.version) }));
}

/** What the app serves right now, as the simulator of its platform sees it. */
export type Serving =
  | { running: true; image: string | undefined; maintenance: boolean }
  | { running: false; why: string };

export interface AppAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The error rate the app's Prometheus reports on a release (BARQ rolls back above 5 %). */
export function errorRate(release: Release | undefined): number {
  return release === undefined || release.good ? 0.0004 : 0.079;
}

/**
 * The app's health endpoint, in the runbooks' health format (`{ status, version, checks }`):
 * 200 healthy on a good release, 503 degraded on the broken one, 503 while in maintenance or not
 * running. Images the simulator did not seed (a deploy of your own) are good.
 */
export function healthAnswer(service: string, serving: Serving, releases: readonly Release[]): AppAnswer {
  if (!serving.running) {
    return { status: 503, body: { status: 'unhealthy', service, message: serving.why } };
  }
  const release = releases.find((r) => r.image === serving.image);
  const version = release?.version ?? serving.image?.split(':').pop() ?? 'unknown';
  if (serving.maintenance) {
    return {
      status: 503,
      body: { status: 'degraded', service, version, message: 'maintenance mode is on' },
    };
  }
  if (release && !release.good) {
    const percent = (errorRate(release) * 100).toFixed(1);
    return {
      status: 503,
      body: {
        status: 'degraded',
        service,
        version,
        message: `${percent} % of requests fail since ${version} (${release.note})`,
        checks: {
          database: { status: 'healthy', latency: 4 },
          orders: { status: 'unhealthy', message: `${percent} % of requests answer 5xx` },
        },
      },
    };
  }
  return {
    status: 200,
    body: {
      status: 'healthy',
      service,
      version,
      checks: { database: { status: 'healthy', latency: 3 }, orders: { status: 'healthy' } },
    },
  };
}
