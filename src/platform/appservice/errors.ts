import { z } from 'zod';
import { redactText } from '../../logger.ts';
import { codeForStatus, PlatformError, type PlatformErrorCode } from '../errors.ts';
import { UnexpectedAnswerError } from './resources.ts';

/** Where the app lives, for messages. */
export interface Coordinates {
  service: string;
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  slot: string | undefined;
}

/** What the adapter was doing when an Azure call failed, to word the error for a responder. */
export interface CallContext {
  /** "read the app", "swap slot staging into production", … */
  action: string;
  /** The Azure RBAC action the call needs, e.g. Microsoft.Web/sites/restart/action. */
  permission: string;
  /** What a 404 means for this call. */
  resource:
    | { kind: 'app' }
    | { kind: 'slot'; slot: string }
    | { kind: 'plan'; name: string; resourceGroup: string }
    | { kind: 'deployment'; id: string }
    | { kind: 'operation' };
}

/** "barq-api (app barq-api-prod, resource group rg, subscription s)". */
export function targetName(c: Coordinates): string {
  return `${c.service} (app ${c.app}, resource group ${c.resourceGroup}, subscription ${c.subscriptionId})`;
}

/** The SDK's RestError (and transport errors) as far as the adapter reads them. */
const restErrorSchema = z.object({
  name: z.string().optional(),
  message: z.string(),
  statusCode: z.number().int().optional(),
  code: z.string().optional(),
});

const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR',
]);

function notFoundMessage(c: Coordinates, ctx: CallContext): string {
  const where = `resource group ${c.resourceGroup}, subscription ${c.subscriptionId}`;
  switch (ctx.resource.kind) {
    case 'app':
      return `app ${c.app} not found in ${where}: check platform.app, platform.resourceGroup and platform.subscriptionId of service ${c.service}`;
    case 'slot':
      return `slot ${ctx.resource.slot} of app ${c.app} not found (${where}): check platform.slot of service ${c.service}`;
    case 'plan':
      return `App Service plan ${ctx.resource.name} not found in resource group ${ctx.resource.resourceGroup}, subscription ${c.subscriptionId}: check platform.plan of service ${c.service}`;
    case 'deployment':
      return `deployment ${ctx.resource.id} not found on app ${c.app} (${where}): pick an id from the history`;
    case 'operation':
      return `Azure lost track of the operation to ${ctx.action} for ${targetName(c)}: check the app's activity log`;
  }
}

function messageFor(
  code: PlatformErrorCode,
  c: Coordinates,
  ctx: CallContext,
  status: number | undefined,
): string {
  const target = targetName(c);
  switch (code) {
    case 'unauthenticated':
      return `Azure rejected the bot's credentials (HTTP 401) when trying to ${ctx.action} for ${target}: check the identity the bot runs as (managed identity, or AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET)`;
    case 'permission_denied': {
      const scope = ctx.resource.kind === 'plan' ? `App Service plan ${ctx.resource.name}` : `app ${c.app}`;
      return `permission denied: the bot's identity needs ${ctx.permission} on ${scope} (resource group ${c.resourceGroup}) to ${ctx.action}; grant it a role such as Website Contributor`;
    }
    case 'not_found':
      return notFoundMessage(c, ctx);
    case 'conflict':
      return `conflict when trying to ${ctx.action} for ${target}: another operation (a slot swap, deployment or scale) is in progress; try again when it has finished`;
    case 'rate_limited':
      return `Azure is throttling the bot (HTTP 429) when trying to ${ctx.action} for ${target}; wait a minute and try again`;
    case 'timeout':
      return `Azure did not answer in time when trying to ${ctx.action} for ${target}; it may still be working: check the status before retrying`;
    case 'unavailable':
      return `Azure App Service answered HTTP ${status ?? '5xx'} when trying to ${ctx.action} for ${target}; this is usually temporary, try again shortly`;
    case 'invalid':
      return `Azure refused the request to ${ctx.action} for ${target} (HTTP ${status ?? 400})`;
    case 'unsupported':
      return `Azure does not support the request to ${ctx.action} for ${target}`;
  }
}

function withCloudWords(message: string, cloud: string | undefined): string {
  const words = cloud?.trim();
  if (!words || words.startsWith('Unexpected status code')) return message;
  return `${message}. Azure said: ${redactText(words)}`;
}

/** A stand-in for the SDK error that keeps no request (headers, token) attached. */
function sanitizedCause(error: unknown): Error {
  const parsed = restErrorSchema.safeParse(error);
  if (!parsed.success) return new Error(redactText(String(error)));
  const { name, code, statusCode, message } = parsed.data;
  const cause = new Error(redactText(message));
  cause.name = [name ?? 'Error', code, statusCode].filter((p) => p !== undefined).join(' ');
  return cause;
}

/** Turns whatever the SDK threw into a PlatformError a responder can act on. */
export function toPlatformError(error: unknown, c: Coordinates, ctx: CallContext): PlatformError {
  if (error instanceof PlatformError) return error;
  const cause = sanitizedCause(error);
  const target = targetName(c);
  if (error instanceof UnexpectedAnswerError) {
    return new PlatformError('invalid', `${error.message} when trying to ${ctx.action} for ${target}`, {
      cause,
    });
  }
  const parsed = restErrorSchema.safeParse(error);
  if (!parsed.success) {
    return new PlatformError(
      'invalid',
      `unexpected failure when trying to ${ctx.action} for ${target}: ${cause.message}`,
      {
        cause,
      },
    );
  }
  const { name, message, statusCode, code } = parsed.data;
  if (/long-running operation has failed/i.test(message)) {
    return new PlatformError(
      'conflict',
      `Azure reports the operation to ${ctx.action} for ${target} failed; check the app's activity log before trying again (${redactText(message)})`,
      { cause },
    );
  }
  if (name === 'AbortError') {
    return new PlatformError('timeout', messageFor('timeout', c, ctx, undefined), { cause });
  }
  if (name && CREDENTIAL_ERRORS.has(name)) {
    return new PlatformError(
      'unauthenticated',
      `could not get an Azure token for the bot to ${ctx.action} for ${target}: configure a managed identity or AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET (${redactText(message.split('\n')[0] ?? '')})`,
      { cause },
    );
  }
  if (/not permitted for non-TLS/i.test(message)) {
    return new PlatformError(
      'invalid',
      `platform.endpoint of service ${c.service} must be an https URL: the Azure SDK never sends the bot's token over plain http`,
      { cause },
    );
  }
  if (statusCode !== undefined && statusCode > 0) {
    const kind = codeForStatus(statusCode);
    return new PlatformError(kind, withCloudWords(messageFor(kind, c, ctx, statusCode), message), {
      status: statusCode,
      cause,
    });
  }
  if (code === 'ETIMEDOUT')
    return new PlatformError('timeout', messageFor('timeout', c, ctx, undefined), { cause });
  if (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) {
    return new PlatformError(
      'unavailable',
      `could not reach Azure Resource Manager (${code}) to ${ctx.action} for ${target}; check the network or platform.endpoint`,
      { cause },
    );
  }
  return new PlatformError(
    'invalid',
    `unexpected failure when trying to ${ctx.action} for ${target}: ${cause.message}`,
    {
      cause,
    },
  );
}
