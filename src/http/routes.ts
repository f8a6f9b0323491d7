import type { IncomingMessage, ServerResponse } from 'node:http';
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
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        services.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
            res.end(text);
          },
          (error: unknown) => {
            services.logger.error({ err: error }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      },
    },
  ];
}
