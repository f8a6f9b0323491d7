import type { RedisCheckConfig } from '../../config/schema.ts';
import { resolveSecrets } from '../../config/secrets.ts';
import { formatMs } from '../format.ts';
import { describeNetworkError, innermostMessage } from '../network-errors.ts';
import { displayUrl, parseUrl } from '../redact.ts';
import { asKeyspaceSample, evaluateRedisInfo, parseRedisInfo, type RedisThresholds } from '../redis-info.ts';
import {
  type CheckMemory,
  type CheckOutcome,
  elapsedSince,
  type PrepareContext,
  type PreparedCheck,
} from './check.ts';

/** Runbooks: `redis-cli PING`, `redis-cli INFO memory`, Floyo "cache hit rate > 80 %". */
export function prepareRedisCheck(
  check: RedisCheckConfig,
  { env, redactor, memory }: PrepareContext,
): PreparedCheck {
  redactor.addUrlReferences(check.url, env);
  const resolved = resolveSecrets(check.url, env);
  const url = parseUrl(resolved, 'the Redis URL');
  redactor.addUrlCredentials(url);
  if (url.username && !url.password) redactor.add(url.username); // redis://PASSWORD@host is accepted too
  const thresholds = { hitRateTarget: check.hitRateTarget, maxMemoryRatio: check.maxMemoryRatio };
  return {
    target: displayUrl(url),
    run: (signal, timeoutMs) =>
      runRedis({ url: resolved, host: url.host, thresholds, signal, timeoutMs, memory }),
  };
}

interface RedisRun {
  url: string;
  host: string;
  thresholds: RedisThresholds;
  signal: AbortSignal;
  timeoutMs: number;
  /** Keeps the keyspace counters of the last run: the hit rate is taken between two runs. */
  memory: CheckMemory | undefined;
}

async function runRedis(run: RedisRun): Promise<CheckOutcome> {
  // ioredis loads with the first check, not at start-up (a bot without REDIS_URL needs it for nothing).
  const { Redis } = await import('ioredis');
  const client = new Redis(run.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: run.timeoutMs,
    commandTimeout: run.timeoutMs,
    enableOfflineQueue: false,
    connectionName: 'runbook-bot-health',
    disableClientInfo: true,
  });
  // ioredis reports the cause (ECONNREFUSED, DNS, a failed SELECT…) only through this event;
  // connect() itself rejects with "Connection is closed.".
  let emitted: Error | undefined;
  client.on('error', (error: Error) => {
    emitted ??= error;
  });
  const onAbort = (): void => client.disconnect();
  run.signal.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  try {
    await client.connect();
    await client.ping();
    const latencyMs = elapsedSince(started);
    const [memory, stats] = await Promise.all([client.info('memory'), client.info('stats')]);
    if (emitted) return { status: 'unhealthy', latencyMs, reason: describeRedisError(emitted, run) };
    const previous = asKeyspaceSample(run.memory?.get());
    const verdict = evaluateRedisInfo(parseRedisInfo(`${memory}\n${stats}`), run.thresholds, { previous });
    // Concurrent runs may finish out of order: keep the newest sample.
    const stored = asKeyspaceSample(run.memory?.get());
    if (verdict.sample && (stored === undefined || verdict.sample.atMs >= stored.atMs))
      run.memory?.set(verdict.sample);
    const outcome: CheckOutcome = { status: verdict.status, latencyMs, details: verdict.details };
    if (verdict.reasons.length > 0) outcome.reason = verdict.reasons.join('; ');
    if (verdict.notes.length > 0) outcome.note = verdict.notes.join('; ');
    return outcome;
  } catch (error) {
    return {
      status: 'unhealthy',
      latencyMs: elapsedSince(started),
      reason: describeRedisError(emitted ?? error, run),
    };
  } finally {
    run.signal.removeEventListener('abort', onAbort);
    client.disconnect();
  }
}

function describeRedisError(error: unknown, run: RedisRun): string {
  const network = describeNetworkError(error, run.host);
  if (network !== undefined) return network;
  const message = innermostMessage(error);
  if (/^(NOAUTH|WRONGPASS)\b/.test(message)) return `authentication failed: ${message}`;
  if (/command timed out/i.test(message))
    return `no answer from ${run.host} within ${formatMs(run.timeoutMs)}`;
  if (/^[A-Z]+ /.test(message)) return `Redis error: ${message}`;
  return `Redis check failed: ${message}`;
}
