import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { createLogger, type Logger } from '../logger.ts';
import { resetSocket } from '../util/reset-socket.ts';
import type { Coordination, LegacyTimer, Lock } from './coordination.ts';
import { CoordinationError } from './errors.ts';
import { describeServer, toCoordinationError } from './redis-errors.ts';
import { extendLockScript, releaseLockScript } from './redis-scripts.ts';
import { epochMillis, nonEmpty, ttlMillis } from './validate.ts';

/**
 * How long the bot waits on Redis. Every call fails within about a second when Redis is unreachable,
 * and a command that timed out can never run later (its connection is reset, nothing is re-sent).
 */
export const REDIS_TIMEOUTS = {
  /** TCP (and TLS) connect. */
  connectMs: 1_000,
  /** A command without an answer after this long fails, and the connection is reset. */
  commandMs: 1_000,
  /** While the connection is being re-established, a call waits this long for it, then fails. */
  reconnectWaitMs: 500,
  /** Longest pause between reconnect attempts (they go on until Redis is back). */
  maxReconnectDelayMs: 1_000,
  /** TCP keepalive, so a dead idle connection is noticed. */
  keepAliveInitialDelayMs: 10_000,
} as const;

interface RedisCoordinationCommon {
  /** Prepended to every key; default `runbook:`. */
  keyPrefix?: string;
  /** Connection trouble is logged here; default a pino logger on stdout. */
  logger?: Logger;
}

export type RedisCoordinationOptions = RedisCoordinationCommon &
  (
    | {
        /** redis:// or rediss:// URL; the coordinator owns (and on close, quits) this connection. */
        url: string;
        client?: undefined;
        /** Give up connecting after this long; default REDIS_TIMEOUTS.connectMs. */
        connectTimeoutMs?: number;
        /** Fail a command not answered after this long; default REDIS_TIMEOUTS.commandMs. */
        commandTimeoutMs?: number;
      }
    | {
        /** A connection the caller owns: close() leaves it open. */
        client: Redis;
        url?: undefined;
      }
  );

/** Redis `SET … NX` answers OK or nil. */
const setReply = z.union([z.literal('OK'), z.null()]);
const intReply = z.number().int();

function parseReply<T>(schema: z.ZodType<T>, reply: unknown, action: string, server: string): T {
  const result = schema.safeParse(reply);
  if (result.success) return result.data;
  throw new CoordinationError(
    'failed',
    `Redis at ${server} gave an unexpected answer while trying to ${action} (${result.error.issues[0]?.message ?? 'unknown shape'})`,
  );
}

/**
 * Coordination between replicas on Redis. Keys (under the prefix): `once:<key>` idempotency claims
 * and `lock:<name>` locks holding the owner's token, each a key of its own (so any Redis Cluster slot
 * will do). Claims and locks expire by Redis PX (server time).
 */
/** How the Redis timer queue (before durable timers) stored a timer. */
const legacyTimerSchema = z.object({
  id: z.string().min(1),
  kind: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  dueAt: z.iso.datetime(),
});

function safeJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function createRedisCoordination(options: RedisCoordinationOptions): Coordination {
  const prefix = options.keyPrefix ?? 'runbook:';
  const logger = options.logger ?? createLogger();
  const owned = options.client === undefined;
  let client: Redis;
  let server: string;
  let connectMs: number = REDIS_TIMEOUTS.connectMs;
  let commandMs: number = REDIS_TIMEOUTS.commandMs;
  if (options.client !== undefined) {
    client = options.client;
    server = `${options.client.options.host ?? '127.0.0.1'}:${options.client.options.port ?? 6379}`;
  } else {
    server = describeServer(options.url);
    connectMs = options.connectTimeoutMs ?? connectMs;
    commandMs = options.commandTimeoutMs ?? commandMs;
    client = new Redis(options.url, redisOptions(connectMs, commandMs, 'runbook-bot:coordination'));
    watchConnection(client, server, logger);
  }
  const url = options.url;
  /** A connection of its own for pub/sub (a subscribed connection can do nothing else). */
  const subscriberConnection = (): Redis =>
    url !== undefined
      ? new Redis(url, { ...redisOptions(connectMs, commandMs, 'runbook-bot:timer-wake'), lazyConnect: true })
      : client.duplicate({ lazyConnect: true, connectionName: 'runbook-bot:timer-wake' });
  const subscribers = new Set<Redis>();
  let closed = false;
  let everReady = client.status === 'ready';
  let lastConnectionError: Error | undefined;
  /** Calls waiting for the connection: settled by the next ready, error or end (one listener each). */
  const waiting = new Set<(error?: Error) => void>();
  const settleWaiting = (error?: Error) => {
    for (const done of [...waiting]) done(error);
  };
  client.on('ready', () => {
    everReady = true;
    lastConnectionError = undefined;
    settleWaiting();
  });
  client.on('error', (error: unknown) => {
    lastConnectionError = error instanceof Error ? error : new Error(String(error));
    settleWaiting(lastConnectionError);
  });
  client.on('end', () => settleWaiting(new Error('Connection is closed.')));

  /** Waits (briefly) for the connection to be usable; fails with why it is not. */
  function untilReady(): Promise<void> {
    if (client.status === 'ready') return Promise.resolve();
    if (client.status === 'end') return Promise.reject(new Error('Connection is closed.'));
    // The first connection gets the whole connect and handshake time; later, calls fail fast.
    const waitMs = everReady ? REDIS_TIMEOUTS.reconnectWaitMs : connectMs + commandMs;
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        waiting.delete(done);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        done(
          client.status === 'connect'
            ? new Error('Command timed out: Redis accepted the connection but did not complete the handshake')
            : (lastConnectionError ?? new Error('Connection is closed.')),
        );
      }, waitMs);
      waiting.add(done);
    });
  }

  /**
   * Drops a connection that stopped answering with a TCP reset, so what was sent on it cannot reach
   * Redis later; ioredis reconnects (retryStrategy) and re-sends nothing.
   */
  function dropConnection(): void {
    if (!owned || closed) return;
    resetSocket(client.stream);
  }

  const onceKey = (key: string) => `${prefix}once:${key}`;
  /** A pub/sub channel, not a key: any Redis Cluster node delivers it to every subscriber. */
  const wakeChannel = `${prefix}timers:wake`;
  const lockKey = (name: string) => `${prefix}lock:${name}`;

  /** Runs one Redis call, turning every failure into a CoordinationError. */
  async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    if (closed) {
      throw new CoordinationError(
        'closed',
        `cannot ${action}: the Redis coordinator for ${server} was closed`,
      );
    }
    try {
      await untilReady();
      return await fn();
    } catch (error) {
      const wrapped = toCoordinationError(error, action, server, closed);
      if (wrapped.code === 'timeout') dropConnection();
      throw wrapped;
    }
  }

  function makeLock(name: string, token: string): Lock {
    const key = lockKey(name);
    return {
      name,
      token,
      async extend(ttlMs) {
        const action = `extend lock ${name}`;
        const ttl = ttlMillis(ttlMs, action);
        const reply = await call(action, () => extendLockScript.run(client, [key], [token, ttl]));
        return parseReply(intReply, reply, action, server) === 1;
      },
      async release() {
        const action = `release lock ${name}`;
        const reply = await call(action, () => releaseLockScript.run(client, [key], [token]));
        return parseReply(intReply, reply, action, server) === 1;
      },
    };
  }

  return {
    kind: 'redis',

    async claimOnce(key, ttlMs) {
      nonEmpty(key, 'claimOnce: the key');
      const action = `claim idempotency key ${key}`;
      const ttl = ttlMillis(ttlMs, action);
      const reply = await call(action, () => client.set(onceKey(key), '1', 'PX', ttl, 'NX'));
      return parseReply(setReply, reply, action, server) === 'OK';
    },

    async forget(key) {
      nonEmpty(key, 'forget: the key');
      await call(`forget idempotency key ${key}`, () => client.del(onceKey(key)));
    },

    async acquireLock(name, ttlMs) {
      nonEmpty(name, 'acquireLock: the lock name');
      const action = `acquire lock ${name}`;
      const ttl = ttlMillis(ttlMs, action);
      const token = randomUUID();
      const reply = await call(action, () => client.set(lockKey(name), token, 'PX', ttl, 'NX'));
      return parseReply(setReply, reply, action, server) === 'OK' ? makeLock(name, token) : null;
    },

    async legacyTimers() {
      const dueKey = `${prefix}timers:due`;
      const dataKey = `${prefix}timers:data`;
      const ids = await call('read the old timer queue', () => client.zrange(dueKey, '0', '-1'));
      if (ids.length === 0) return [];
      const texts = await call('read the old timer queue', () => client.hmget(dataKey, ...ids));
      const timers: LegacyTimer[] = [];
      for (const [i, id] of ids.entries()) {
        const parsed = legacyTimerSchema.safeParse(safeJson(texts[i] ?? null));
        if (parsed.success && parsed.data.id === id) {
          const { kind, payload, dueAt } = parsed.data;
          timers.push({ id, kind, payload, dueAt: new Date(dueAt) });
        } else
          logger.error(
            { timerId: id, keyPrefix: prefix },
            'old queued timer could not be read; left in Redis',
          );
      }
      return timers;
    },

    async forgetLegacyTimers(ids) {
      if (ids.length === 0) return;
      await call('forget moved timers', async () => {
        await client.zrem(`${prefix}timers:due`, ...ids);
        await client.hdel(`${prefix}timers:data`, ...ids);
      });
    },

    async publishTimerWake(dueAt) {
      const at = epochMillis(dueAt, 'publishTimerWake: dueAt');
      await call('publish a timer wake-up', () => client.publish(wakeChannel, String(at)));
    },

    async subscribeTimerWake(listener) {
      if (closed)
        throw new CoordinationError(
          'closed',
          `cannot subscribe: the Redis coordinator for ${server} was closed`,
        );
      const subscriber = subscriberConnection();
      subscriber.on('error', () => {}); // reconnects by itself; the coordination connection logs trouble
      let listening = true;
      subscriber.on('message', (channel: string, message: string) => {
        if (!listening) return; // stopped: the socket may still deliver what was on its way
        const at = Number(message);
        // Anything else on the channel is not ours: ignored (a wake-up is only ever a hint).
        if (channel === wakeChannel && Number.isSafeInteger(at)) listener(new Date(at));
      });
      subscribers.add(subscriber);
      const stop = async () => {
        listening = false;
        subscribers.delete(subscriber);
        subscriber.disconnect();
      };
      try {
        await subscriber.connect();
        await subscriber.subscribe(wakeChannel);
      } catch (error) {
        await stop();
        throw toCoordinationError(error, 'subscribe to timer wake-ups', server, closed);
      }
      return stop;
    },

    async ping() {
      return call('ping', async () => {
        const started = performance.now();
        await client.ping();
        return performance.now() - started;
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const subscriber of subscribers) subscriber.disconnect();
      subscribers.clear();
      if (!owned) return;
      if (client.status !== 'ready') {
        client.disconnect();
        return;
      }
      try {
        await client.quit();
      } catch (error) {
        throw toCoordinationError(error, 'close the connection', server, false);
      } finally {
        client.disconnect();
      }
    },
  };
}

/**
 * Options of a connection: no queue of commands waiting for a connection, and nothing re-sent after
 * a reconnect (a command the caller was told failed must not run later; calls wait for a connection
 * in call()).
 */
function redisOptions(connectMs: number, commandMs: number, connectionName: string): RedisOptions {
  return {
    connectTimeout: connectMs,
    commandTimeout: commandMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 100, REDIS_TIMEOUTS.maxReconnectDelayMs),
    keepAlive: REDIS_TIMEOUTS.keepAliveInitialDelayMs,
    connectionName,
  };
}

/** Logs connection trouble once per distinct error (ioredis repeats it on every reconnect attempt). */
function watchConnection(client: Redis, server: string, logger: Logger): void {
  let lastError: string | undefined;
  client.on('error', (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (message === lastError) return;
    lastError = message;
    logger.warn({ err: error, redis: server }, 'Redis coordination connection error; reconnecting');
  });
  client.on('ready', () => {
    if (lastError !== undefined) logger.info({ redis: server }, 'Redis coordination connection restored');
    lastError = undefined;
  });
}
