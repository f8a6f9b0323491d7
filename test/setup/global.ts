import { createConnection } from 'node:net';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';

function reachable(url: string, defaultPort: number): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port || defaultPort) });
    socket.setTimeout(3_000);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => reject(new Error(`timed out connecting to ${hostname}:${port}`)));
    socket.once('error', reject);
  });
}

/** Fails the whole run when Postgres or Redis is missing: the suite never skips them. */
export default async function setup(): Promise<void> {
  const missing: string[] = [];
  await reachable(TEST_DATABASE_URL, 5432).catch((e: Error) => missing.push(`Postgres (${e.message})`));
  await reachable(TEST_REDIS_URL, 6379).catch((e: Error) => missing.push(`Redis (${e.message})`));
  if (missing.length > 0) {
    throw new Error(`The test suite needs real services, and these are not reachable: ${missing.join(', ')}`);
  }
}
