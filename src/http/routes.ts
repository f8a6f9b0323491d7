import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';
import type { Services } from '../services.ts';
import type { ReadinessProbe } from './readiness.ts';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * GET /health (liveness), /health/readiness and /metrics, served beside /slack/events. Readiness
 * answers from the probe's last results, at once, whatever state the database and Redis are in.
 * /metrics here needs METRICS_TOKEN (else 404: use METRICS_PORT).
 */
export function httpRoutes(services: Services, probe: ReadinessProbe): CustomRoute[] {
  return [
    {
      path: '/health',
      method: ['GET', 'HEAD'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        sendJson(res, 200, { status: 'healthy', timestamp: services.clock.now().toISOString() });
      },
    },
    {
      path: '/health/readiness',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        probe.readiness().then(
          ({ httpStatus, body }) => sendJson(res, httpStatus, body),
          (error: unknown) => {
            services.logger.error({ err: error }, 'readiness check failed');
            sendJson(res, 503, { status: 'unhealthy', message: 'readiness check failed' });
          },
        );
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (req: IncomingMessage, res: ServerResponse) => {
        if (services.env.METRICS_TOKEN === undefined) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(
            services.env.METRICS_PORT === undefined
              ? 'Metrics are not served on this port: set METRICS_PORT (a listener of their own) or METRICS_TOKEN.\n'
              : 'Metrics are served on METRICS_PORT.\n',
          );
          return;
        }
        serveMetrics(services, req, res);
      },
    },
  ];
}

/** The bearer token in an Authorization header, compared in constant time. */
function hasBearer(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/**
 * Prometheus metrics. With METRICS_TOKEN set, only for `Authorization: Bearer <token>` (401
 * otherwise), wherever they are served (PORT, METRICS_PORT).
 */
export function serveMetrics(services: Services, req: IncomingMessage, res: ServerResponse): void {
  const token = services.env.METRICS_TOKEN;
  if (token !== undefined && !hasBearer(req, token)) {
    res.writeHead(401, {
      'content-type': 'text/plain; charset=utf-8',
      'www-authenticate': 'Bearer realm="metrics"',
    });
    res.end('A bearer token is required: Authorization: Bearer <METRICS_TOKEN>.\n');
    return;
  }
  services.metrics.registry.metrics().then(
    (text) => {
      res.writeHead(200, {
        'content-type': services.metrics.registry.contentType,
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => {
      services.logger.error({ err: error }, 'metrics collection failed');
      res.writeHead(500).end();
    },
  );
}

/** The METRICS_PORT listener: GET /metrics only. */
export async function startMetricsServer(
  services: Services,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Only /metrics is served here.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    serveMetrics(services, req, res);
  });
  server.listen(port);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
