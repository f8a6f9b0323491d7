import { z } from 'zod';
import { redactText } from '../../logger.ts';
import { codeForStatus, PlatformError, type PlatformErrorCode } from '../errors.ts';
import { UnexpectedAnswerError } from './resources.ts';

/** What the adapter was doing when a Cloud Run call failed, to word the error for a responder. */
export interface CallContext {
  /** "read the service", "roll back traffic", … */
  action: string;
  /** The IAM permission the call needs, e.g. run.services.update. */
  permission: string;
  /** What a 404 means for this call. */
  resource: { kind: 'service' } | { kind: 'revision'; id: string } | { kind: 'operation'; name: string };
}

/** Where the service lives, for messages. */
export interface Coordinates {
  service: string;
  project: string;
  region: string;
}

/** gRPC canonical codes (google.rpc.Code), which the SDK reports on every error. */
const GRPC_CODES: Record<number, PlatformErrorCode> = {
  1: 'timeout', // CANCELLED (the SDK reports an aborted request so)
  2: 'unavailable', // UNKNOWN
  3: 'invalid', // INVALID_ARGUMENT
  4: 'timeout', // DEADLINE_EXCEEDED
  5: 'not_found',
  6: 'conflict', // ALREADY_EXISTS
  7: 'permission_denied',
  8: 'rate_limited', // RESOURCE_EXHAUSTED
  9: 'invalid', // FAILED_PRECONDITION
  10: 'conflict', // ABORTED
  11: 'invalid', // OUT_OF_RANGE
  12: 'unsupported', // UNIMPLEMENTED
  13: 'unavailable', // INTERNAL
  14: 'unavailable',
  15: 'unavailable', // DATA_LOSS
  16: 'unauthenticated',
};

const HTTP_FOR_CODE: Record<PlatformErrorCode, number | undefined> = {
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  timeout: 504,
  invalid: 400,
  unsupported: 501,
};

/** The shape of the SDK's GoogleError that matters here. */
const googleErrorSchema = z.object({
  code: z.number().int().optional(),
  httpStatusCode: z.number().int().optional(),
  message: z.string(),
});

function upstreamWords(message: string): string {
  const clean = redactText(message.replace(/^\d+ [A-Z_]+: /, '')).trim();
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

export function targetName(c: Coordinates): string {
  return `${c.service} (project ${c.project}, region ${c.region})`;
}

function notFoundMessage(ctx: CallContext, c: Coordinates): string {
  switch (ctx.resource.kind) {
    case 'service':
      return `service ${c.service} not found in project ${c.project}, region ${c.region}: check platform.project, platform.region and platform.service in the config`;
    case 'revision':
      return `revision ${ctx.resource.id} not found for service ${targetName(c)}: pick one from /deploy history`;
    case 'operation':
      return `Cloud Run operation ${ctx.resource.name} for ${targetName(c)} is gone; check /deploy status`;
  }
}

function messageFor(
  code: PlatformErrorCode,
  status: number | undefined,
  ctx: CallContext,
  c: Coordinates,
  said: string,
) {
  const target = targetName(c);
  const quote = said ? ` (Cloud Run said: ${said})` : '';
  switch (code) {
    case 'unauthenticated':
      return `Cloud Run rejected the bot's Google credentials while trying to ${ctx.action} ${target}: renew the service account key or Application Default Credentials of the bot${quote}`;
    case 'permission_denied': {
      const actAs =
        ctx.permission === 'run.services.update'
          ? ' (and iam.serviceAccounts.actAs on its runtime service account)'
          : '';
      return `permission denied: the bot's identity needs ${ctx.permission}${actAs} to ${ctx.action} ${target}${quote}`;
    }
    case 'not_found':
      return `${notFoundMessage(ctx, c)}${quote}`;
    case 'conflict':
      return `${target} was changed by someone else while the bot tried to ${ctx.action} (HTTP ${status ?? 409}): check /deploy status and try again${quote}`;
    case 'rate_limited':
      return `Cloud Run API quota exceeded while trying to ${ctx.action} ${target}: wait a minute and try again${quote}`;
    case 'unavailable':
      return `Cloud Run API unavailable (HTTP ${status ?? 503}) while trying to ${ctx.action} ${target}: try again shortly, and check https://status.cloud.google.com if it persists${quote}`;
    case 'timeout':
      return `Cloud Run did not answer in time while trying to ${ctx.action} ${target}: try again, then check /deploy status${quote}`;
    case 'unsupported':
      return `Cloud Run does not support the request to ${ctx.action} ${target}${quote}`;
    case 'invalid':
      return `Cloud Run refused to ${ctx.action} ${target}${said ? `: ${said}` : ''}`;
  }
}

/**
 * Turns an SDK error (GoogleError with a gRPC `code` and, on the REST transport, `httpStatusCode`)
 * into a PlatformError whose message names the service and its coordinates and says what to do.
 * Errors that are not from the SDK (bugs in our code) are returned unchanged.
 */
export function toPlatformError(error: unknown, ctx: CallContext, coordinates: Coordinates): unknown {
  if (error instanceof PlatformError) return error;
  if (error instanceof UnexpectedAnswerError) {
    return new PlatformError(
      'invalid',
      `${error.message} (while trying to ${ctx.action} ${targetName(coordinates)})`,
      {
        cause: error,
      },
    );
  }
  const parsed = googleErrorSchema.safeParse(error);
  if (!parsed.success || (parsed.data.code === undefined && parsed.data.httpStatusCode === undefined))
    return error;
  const { code: grpc, httpStatusCode, message } = parsed.data;
  const code =
    httpStatusCode !== undefined && httpStatusCode >= 400
      ? codeForStatus(httpStatusCode)
      : (GRPC_CODES[grpc ?? 2] ?? 'unavailable');
  const status = httpStatusCode ?? HTTP_FOR_CODE[code];
  const said = upstreamWords(message);
  // The SDK error is not kept as the cause: on the REST transport it can carry the request
  // configuration, Authorization header included. Only its codes and redacted words are kept.
  return new PlatformError(code, messageFor(code, status, ctx, coordinates, said), {
    status,
    cause: { grpcCode: grpc, httpStatusCode, message: said },
  });
}

/** Token acquisition did not finish within its deadline. */
export class TokenDeadlineError extends Error {
  override name = 'TokenDeadlineError';
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no access token within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** A refusal from a token endpoint or the metadata server, as gaxios reports it. */
const tokenRefusalSchema = z.object({
  message: z.string(),
  status: z.number().int().optional(),
  response: z.object({ status: z.number().int().optional(), data: z.unknown() }).optional(),
});
/** Google's OAuth 2.0 error body, and the google.rpc.Status one (IAM Credentials, STS). */
const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });
const rpcErrorSchema = z.object({ error: z.object({ message: z.string() }) });

function firstLine(text: string): string {
  const line = redactText(text.split('\n')[0] ?? '').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function tokenFailureWords(error: unknown): string {
  if (error instanceof TokenDeadlineError) {
    return `no answer from the credential source (metadata server or token endpoint) within ${error.timeoutMs / 1000} s`;
  }
  const parsed = tokenRefusalSchema.safeParse(error);
  if (!parsed.success) return firstLine(String(error));
  if (parsed.data.message.startsWith('Could not load the default credentials')) {
    return 'no Application Default Credentials found (GOOGLE_APPLICATION_CREDENTIALS is not set, gcloud has no application-default login, and no metadata server answered)';
  }
  const { message, response } = parsed.data;
  const status = parsed.data.status ?? response?.status;
  const oauth = oauthErrorSchema.safeParse(response?.data);
  const rpc = rpcErrorSchema.safeParse(response?.data);
  const said = oauth.success
    ? `${oauth.data.error}${oauth.data.error_description ? `: ${oauth.data.error_description}` : ''}`
    : rpc.success
      ? rpc.data.error.message
      : message;
  return status === undefined
    ? firstLine(said)
    : `the token endpoint refused (HTTP ${status}): ${firstLine(said)}`;
}

/**
 * The bot could not get an access token at all (no Application Default Credentials, a refresh
 * refused, the metadata server silent): an authentication problem of the bot's own identity, not
 * a Cloud Run permission. Nothing was sent to Cloud Run. The credential library's error is not
 * kept as the cause: it can carry the token request, refresh token included.
 */
export function credentialError(error: unknown, service: string): PlatformError {
  const words = tokenFailureWords(error);
  return new PlatformError(
    'unauthenticated',
    `could not get a Google access token for ${service}: ${words.replace(/[.\s]+$/, '')}. Give the bot Google credentials: a service account key in GOOGLE_APPLICATION_CREDENTIALS, or the service account it runs as on Google Cloud`,
    { cause: { message: words } },
  );
}
