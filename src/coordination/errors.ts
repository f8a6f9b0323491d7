/** Typed coordination errors with messages a responder can act on. */

export type CoordinationErrorCode =
  /** Redis cannot be reached (refused, reset, DNS, retries exhausted). */
  | 'unavailable'
  /** Redis accepted the connection but did not answer in time. */
  | 'timeout'
  /** Redis refused our credentials (NOAUTH, WRONGPASS). */
  | 'unauthenticated'
  /** The coordinator was closed and cannot be used any more. */
  | 'closed'
  /** A caller passed something unusable (a non-positive TTL, a payload that is not JSON…). */
  | 'invalid'
  /** Redis answered with an error (WRONGTYPE, OOM, a script error…). */
  | 'failed';

export class CoordinationError extends Error {
  override name = 'CoordinationError';
  readonly code: CoordinationErrorCode;
  /** Worth retrying later: Redis may come back. */
  readonly transient: boolean;
  constructor(code: CoordinationErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.transient = code === 'unavailable' || code === 'timeout';
  }
}
