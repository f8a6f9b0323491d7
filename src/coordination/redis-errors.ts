import { redactText } from '../logger.ts';
import { NETWORK_ERROR_CODES } from '../util/network-codes.ts';
import { CoordinationError, type CoordinationErrorCode } from './errors.ts';

function classify(error: Error, closedByUs: boolean): CoordinationErrorCode {
  const message = error.message;
  const code = (error as { code?: unknown }).code;
  if (error.name === 'MaxRetriesPerRequestError') return 'unavailable';
  if (message === 'Command timed out' || message.startsWith('Command timed out')) return 'timeout';
  if (message.startsWith('Connection is closed')) return closedByUs ? 'closed' : 'unavailable';
  if (message.startsWith("Stream isn't writeable")) return closedByUs ? 'closed' : 'unavailable';
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return 'unavailable';
  if (/^(NOAUTH|WRONGPASS|NOPERM)\b/.test(message)) return 'unauthenticated';
  return 'failed';
}

const ADVICE: Record<CoordinationErrorCode, string> = {
  unavailable: 'check REDIS_URL and that Redis is running and reachable from the bot',
  timeout: 'Redis accepted the connection but did not answer in time; check its load and the network',
  unauthenticated: 'check the user and password in REDIS_URL',
  closed: 'the coordinator was closed (the bot is shutting down)',
  invalid: 'fix the arguments',
  failed: 'check the Redis server logs and the keys under the bot’s prefix',
};

/**
 * Turns whatever ioredis threw into a CoordinationError naming the action, the server (host:port, never
 * credentials) and what to do about it.
 */
export function toCoordinationError(
  error: unknown,
  action: string,
  server: string,
  closedByUs: boolean,
): CoordinationError {
  if (error instanceof CoordinationError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const code = classify(err, closedByUs);
  const what = code === 'closed' ? 'closed' : code === 'timeout' ? 'timed out' : 'failed';
  return new CoordinationError(
    code,
    `Redis at ${server} ${what} while trying to ${action}: ${redactText(err.message)} (${ADVICE[code]})`,
    { cause: err },
  );
}

/** host:port of a redis:// URL, without user or password, for messages. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'Redis (unparseable REDIS_URL)';
  }
}
