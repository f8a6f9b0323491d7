/** Typed cloud errors with messages a responder can act on. */

export type PlatformErrorCode =
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'invalid'
  | 'unsupported';

export class PlatformError extends Error {
  override name = 'PlatformError';
  readonly code: PlatformErrorCode;
  /** Worth retrying with backoff (429, 5xx, timeouts). */
  readonly transient: boolean;
  readonly status: number | undefined;
  constructor(code: PlatformErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.transient = code === 'rate_limited' || code === 'unavailable' || code === 'timeout';
  }
}

/** What a closed adapter answers: the bot is stopping, nothing was sent. */
export function closedError(target: string): PlatformError {
  return new PlatformError(
    'unavailable',
    `the ${target} adapter is closed (the bot is stopping): nothing was sent`,
  );
}

/** Maps an HTTP status to an error code. */
export function codeForStatus(status: number): PlatformErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'invalid';
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Retries transient PlatformErrors with exponential backoff and full jitter, bounded. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof PlatformError) || !error.transient || attempt >= attempts) throw error;
      await sleep(Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1))));
    }
  }
}
