import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorRate, healthAnswer, type Release, type Serving } from './releases.ts';

/**
 * The simulated services' own endpoints, on one 127.0.0.1 port, by service name:
 *   GET /{service}/…                          its health endpoints (/health, /health/readiness, …)
 *   GET /{service}/prometheus/api/v1/query    a Prometheus instant query: its error rate
 * What they answer follows the release its platform's simulator serves right now, so a rollback on
 * the platform changes the health the bot sees.
 */
export interface SimulatedApp {
  name: string;
  releases: readonly Release[];
  serving(): Serving;
}

export interface AppsServer {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** `apps` by service name (filled in as the simulators start). */
export async function startAppsServer(apps: ReadonlyMap<string, SimulatedApp>): Promise<AppsServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, name = '', ...rest] = url.pathname.split('/');
    const app = apps.get(decodeURIComponent(name));
    if (!app) {
      send(res, 404, { status: 'unhealthy', message: `no simulated service "${name}"` });
      return;
    }
    const serving = app.serving();
    if (rest.join('/') === 'prometheus/api/v1/query') {
      const release = serving.running ? app.releases.find((r) => r.image === serving.image) : undefined;
      const value = serving.running ? errorRate(release) : 1;
      send(res, 200, {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: { service: app.name }, value: [Date.now() / 1000, String(value)] }],
        },
      });
      return;
    }
    const answer = healthAnswer(app.name, serving, app.releases);
    send(res, answer.status, answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
