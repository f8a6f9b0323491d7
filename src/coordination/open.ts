import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Coordination } from './coordination.ts';
import { createMemoryCoordination } from './memory.ts';

export interface OpenCoordinationOptions {
  /** REDIS_URL: Redis when set, the in-process implementation (one replica only) otherwise. */
  redisUrl?: string | undefined;
  /** Redis key prefix; default `runbook:`. */
  keyPrefix?: string | undefined;
  /** Expiry clock of the in-process implementation (Redis expires by its own clock). */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/**
 * Opens the coordinator for this process. With Redis, one PING proves the URL before start-up goes on,
 * so a wrong REDIS_URL fails here with a CoordinationError saying so, not at the first slash command.
 */
export async function openCoordination(options: OpenCoordinationOptions = {}): Promise<Coordination> {
  if (options.redisUrl === undefined || options.redisUrl === '') {
    return createMemoryCoordination(options.clock ? { clock: options.clock } : {});
  }
  // ioredis loads only when Redis is configured.
  const { createRedisCoordination } = await import('./redis.ts');
  const coordination = createRedisCoordination({
    url: options.redisUrl,
    ...(options.keyPrefix !== undefined && { keyPrefix: options.keyPrefix }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  try {
    await coordination.ping();
  } catch (error) {
    await coordination.close();
    throw error;
  }
  return coordination;
}
