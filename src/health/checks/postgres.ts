import type pg from 'pg';
import { z } from 'zod';
import type { PostgresCheckConfig } from '../../config/schema.ts';
import { resolveSecrets } from '../../config/secrets.ts';
import { formatMs, formatPercent } from '../format.ts';
import { describeNetworkError, innermostMessage } from '../network-errors.ts';
import { displayUrl, parseUrl } from '../redact.ts';
import { type CheckOutcome, elapsedSince, type PrepareContext, type PreparedCheck } from './check.ts';

/**
 * Runbooks: `psql $DATABASE_URL -c "SELECT 1;"`, and Floyo's "connection pool utilization < 80 %":
 * client connections (pg_stat_activity, background workers excluded) against max_connections.
 */
export function preparePostgresCheck(
  check: PostgresCheckConfig,
  { env, redactor }: PrepareContext,
): PreparedCheck {
  redactor.addUrlReferences(check.url, env);
  const connectionString = resolveSecrets(check.url, env);
  const url = parseUrl(connectionString, 'the database URL');
  redactor.addUrlCredentials(url);
  redactor.add(url.searchParams.get('password') ?? undefined);
  url.searchParams.delete('password');
  return {
    target: displayUrl(url),
    run: (signal, timeoutMs) =>
      runPostgres({ connectionString, host: url.host, ratio: check.maxConnectionsRatio, signal, timeoutMs }),
  };
}

interface PostgresRun {
  connectionString: string;
  host: string;
  ratio: number;
  signal: AbortSignal;
  timeoutMs: number;
}

const countsRow = z.object({
  connections: z.coerce.number().int().nonnegative(),
  max_connections: z.coerce.number().int().positive(),
});

const CONNECTIONS_SQL = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections,
  current_setting('max_connections') AS max_connections`;

async function runPostgres(run: PostgresRun): Promise<CheckOutcome> {
  // pg loads with the first check, not at start-up (a bot on PGlite has no other use for it).
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: run.connectionString,
    connectionTimeoutMillis: run.timeoutMs,
    query_timeout: run.timeoutMs,
    application_name: 'runbook-bot health check',
  });
  // A connection that breaks while idle is reported through this event; the check reads it below.
  let broken: Error | undefined;
  client.on('error', (error) => {
    broken = error;
  });
  let closing: Promise<string | undefined> | undefined;
  const close = (): Promise<string | undefined> => {
    closing ??= client.end().then(
      () => undefined,
      (error: unknown) => innermostMessage(error),
    );
    return closing;
  };
  const onAbort = (): void => void close();
  run.signal.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  let outcome: CheckOutcome;
  try {
    await client.connect();
    const connectMs = elapsedSince(started);
    const queryStarted = performance.now();
    await client.query('SELECT 1');
    const queryMs = elapsedSince(queryStarted);
    const latencyMs = elapsedSince(started);
    const result = await client.query(CONNECTIONS_SQL);
    const counts = countsRow.parse(result.rows[0]);
    const used = counts.connections / counts.max_connections;
    outcome = {
      status: 'healthy',
      latencyMs,
      details: {
        connectMs,
        queryMs,
        connections: counts.connections,
        maxConnections: counts.max_connections,
      },
    };
    if (used > run.ratio) {
      outcome.status = 'degraded';
      outcome.reason =
        `connection count ${counts.connections} of ${counts.max_connections} (${formatPercent(used)}) ` +
        `above ${formatPercent(run.ratio)}`;
    }
    if (broken) outcome = { status: 'unhealthy', latencyMs, reason: describePostgresError(broken, run, pg) };
  } catch (error) {
    outcome = {
      status: 'unhealthy',
      latencyMs: elapsedSince(started),
      reason: describePostgresError(error, run, pg),
    };
  } finally {
    run.signal.removeEventListener('abort', onAbort);
  }
  const closeProblem = await close();
  if (closeProblem !== undefined) outcome.details = { ...outcome.details, closeError: closeProblem };
  return outcome;
}

/** SQLSTATE classes a responder meets at connection time. */
function describePostgresError(error: unknown, run: PostgresRun, { DatabaseError }: typeof pg): string {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  const message = innermostMessage(error);
  if (error instanceof DatabaseError && typeof code === 'string') {
    if (code === '3D000') return `${message} (check the database name in the URL)`;
    if (code === '28000' || code === '28P01') return `authentication failed: ${message}`;
    if (code === '57P03') return `the database is not accepting connections: ${message}`;
    if (code === '53300') return `too many connections: ${message}`;
    if (code === '57014') return `query cancelled after ${formatMs(run.timeoutMs)}: ${message}`;
    return `${message} (SQLSTATE ${code})`;
  }
  const network = describeNetworkError(error, run.host);
  if (network !== undefined) return network;
  if (/timeout expired|connection timeout/i.test(message)) {
    return `connecting to ${run.host} timed out after ${formatMs(run.timeoutMs)}`;
  }
  if (/query read timeout/i.test(message)) return `no answer to SELECT 1 within ${formatMs(run.timeoutMs)}`;
  if (/terminated unexpectedly/i.test(message))
    return `connection closed by ${run.host} before a complete answer`;
  return `database check failed: ${message}`;
}
