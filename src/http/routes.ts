import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Services } from '../services.ts';

type CheckStatus = 'ok' | 'error';

interface ReadinessCheck {
  status: CheckStatus;
  message: string;
  latency?: number;
}

async function timed(name: string, fn: () => Promise<number>, timeoutMs: number): Promise<ReadinessCheck> {
  try {
    const latency = await Promise.race([
      fn(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs).unref(),
      ),
    ]);
    return { status: 'ok', message: `${name} reachable`, latency: Math.round(latency * 100) / 100 };
  } catch (error) {
    return {
      status: 'error',
      message: `${name} unreachable: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** The readiness answer, in the runbooks' JSON health format (status, timestamp, checks with latency). */
export async function readiness(services: Services): Promise<{ httpStatus: number; body: unknown }> {
  const [database, coordination] = await Promise.all([
    timed(`database (${services.db.kind})`, () => services.db.ping(), 3_000),
    timed(`coordination (${services.coordination.kind})`, () => services.coordination.ping(), 3_000),
  ]);
  const healthy = database.status === 'ok' && coordination.status === 'ok';
  const now = services.clock.now();
  return {
    httpStatus: healthy ? 200 : 503,
    body: {
      status: healthy ? 'healthy' : 'unhealthy',
      timestamp: now.toISOString(),
      uptime: Math.round((now.getTime() - services.startedAt.getTime()) / 1000),
      version: services.version,
      checks: { database, coordination },
    },
  };
}

/** GET /health (liveness), /health/readiness and /metrics, served beside /slack/events. */
export function httpRoutes(services: Services): CustomRoute[] {
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
        readiness(services).then(
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
