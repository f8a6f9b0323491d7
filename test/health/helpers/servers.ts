import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';

export interface LocalServer {
  /** http://127.0.0.1:PORT (https:// for TLS servers). */
  url: string;
  port: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
}

/** A node:http server on 127.0.0.1 and a free port. */
export async function startHttpServer(handler: Handler): Promise<LocalServer> {
  const server = createServer(handler);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeHttp(server) };
}

/** An HTTPS server with a self-signed certificate (test/health/fixtures) that clients will not trust. */
export async function startSelfSignedHttpsServer(handler: Handler): Promise<LocalServer> {
  const fixtures = new URL('../fixtures/', import.meta.url);
  const server = createHttpsServer(
    {
      key: readFileSync(new URL('self-signed.key', fixtures)),
      cert: readFileSync(new URL('self-signed.crt', fixtures)),
    },
    handler,
  );
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}`, port, close: () => closeHttp(server) };
}

/** A TCP server that accepts connections and never says a word (a hung database or cache). */
export async function startSilentTcpServer(): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => sockets.delete(socket));
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    url: `tcp://127.0.0.1:${port}`,
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends JSON with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The runbooks' health bodies. */
export const FLEET_HEALTHY = {
  status: 'healthy',
  timestamp: '2025-12-09T19:00:00.000Z',
  uptime: 3600,
  version: '1.0.0',
  environment: 'production',
  checks: {
    database: {
      status: 'ok',
      message: 'Database connection healthy',
      latency: 15,
      details: { totalConnections: 10, idleConnections: 8, waitingConnections: 0 },
    },
    redis: { status: 'ok', message: 'Redis connection healthy', latency: 5 },
    memory: {
      status: 'ok',
      message: 'Memory usage: 45.2%',
      details: { heapUsed: 452, heapTotal: 1000, rss: 600, external: 50 },
    },
  },
};

export const FLEET_DEGRADED = {
  status: 'degraded',
  timestamp: '2025-12-09T19:00:00.000Z',
  checks: { database: { status: 'degraded', message: 'Database responding slowly', latency: 1200 } },
};

export const FLOYO_HEALTHY = { status: 'healthy', timestamp: '2025-01-15T10:30:00Z' };

export const FLOYO_UNHEALTHY = {
  status: 'unhealthy',
  checks: { database: 'error', message: 'Connection timeout' },
};
