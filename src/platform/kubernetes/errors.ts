import { ApiException } from '@kubernetes/client-node';
import { z } from 'zod';
import { redactText } from '../../logger.ts';
import { codeForStatus, PlatformError } from '../errors.ts';

/**
 * Turns what @kubernetes/client-node throws (ApiException with the API server's `Status` body,
 * fetch network errors, aborts on our request timeout) into PlatformErrors whose message names the
 * Deployment, its namespace and cluster, and says what a responder can do about it.
 */

export interface Coordinates {
  /** The configured service name (barq-api). */
  service: string;
  namespace: string;
  deployment: string;
  context: string | undefined;
}

/** What a call was trying to do, with the RBAC verb and resource it needs. */
export interface Operation {
  verb: 'get' | 'list' | 'update' | 'patch';
  resource: 'deployments' | 'deployments/scale' | 'replicasets';
  /** "read the deployment", "roll back to revision 3"… */
  action: string;
}

export function targetName(c: Coordinates): string {
  return `${c.service} (deployment ${c.deployment}, namespace ${c.namespace}${c.context ? `, context ${c.context}` : ''})`;
}

/** metav1.Status as the API server sends it with every failure. */
const statusSchema = z.object({
  kind: z.literal('Status').optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

function apiMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return body.trim() === '' ? undefined : body.trim().slice(0, 300);
    }
  }
  const parsed = statusSchema.safeParse(value);
  return parsed.success ? parsed.data.message : undefined;
}

const causeSchema = z.object({ code: z.string().optional(), message: z.string().optional() });

/** Node's fetch fails with TypeError('fetch failed') and the socket error as `cause`. */
function networkCause(error: Error): string | undefined {
  const cause = causeSchema.safeParse((error as { cause?: unknown }).cause);
  if (!cause.success) return undefined;
  return cause.data.code ?? cause.data.message;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function fromStatus(
  status: number,
  detail: string | undefined,
  op: Operation,
  c: Coordinates,
  server: string,
) {
  const target = targetName(c);
  const api = detail ? ` (API server: ${redactText(detail)})` : '';
  const code = codeForStatus(status);
  switch (code) {
    case 'unauthenticated':
      return `the Kubernetes API at ${server} did not accept the bot's credentials (401) when trying to ${op.action} for ${target}: renew the token or client certificate of the kubeconfig${c.context ? ` context ${c.context}` : ''} or the service account token`;
    case 'permission_denied':
      return `permission denied: the bot's identity needs RBAC verb "${op.verb}" on ${op.resource} (API group apps) in namespace ${c.namespace} to ${op.action} for ${target}${api}`;
    case 'not_found':
      return `deployment ${c.deployment} not found in namespace ${c.namespace} of the cluster at ${server}${c.context ? ` (context ${c.context})` : ''}: check the service's platform.deployment and platform.namespace${api}`;
    case 'conflict':
      return `conflict: deployment ${c.deployment} in namespace ${c.namespace} changed while trying to ${op.action}; look at its current state and try again${api}`;
    case 'rate_limited':
      return `the Kubernetes API at ${server} is rate limiting the bot (429) when trying to ${op.action} for ${target}; try again in a minute${api}`;
    case 'timeout':
      return `the Kubernetes API at ${server} timed out (${status}) when trying to ${op.action} for ${target}${api}`;
    case 'unavailable':
      return `the Kubernetes API at ${server} is unavailable (${status}) when trying to ${op.action} for ${target}${api}`;
    default:
      return `the Kubernetes API rejected the request to ${op.action} for ${target} (${status})${api}`;
  }
}

export function toPlatformError(
  error: unknown,
  op: Operation,
  c: Coordinates,
  server: string,
  timeoutMs: number,
): PlatformError {
  if (error instanceof PlatformError) return error;
  if (error instanceof ApiException) {
    const status = typeof error.code === 'number' ? error.code : 500;
    return new PlatformError(
      codeForStatus(status),
      fromStatus(status, apiMessage(error.body), op, c, server),
      {
        status,
      },
    );
  }
  if (isAbort(error)) {
    return new PlatformError(
      'timeout',
      `no answer from the Kubernetes API at ${server} within ${timeoutMs} ms when trying to ${op.action} for ${targetName(c)}`,
      { cause: error },
    );
  }
  if (error instanceof TypeError && networkCause(error) !== undefined) {
    return new PlatformError(
      'unavailable',
      `cannot reach the Kubernetes API at ${server} (${networkCause(error)}) to ${op.action} for ${targetName(c)}: check the cluster endpoint and the network`,
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PlatformError(
    'invalid',
    `unexpected failure when trying to ${op.action} for ${targetName(c)}: ${redactText(message)}`,
    { cause: error },
  );
}

/**
 * The kubeconfig user's credentials could not be had (an exec plugin that failed or did not
 * answer, a client certificate file that is missing): nothing was sent to the API server.
 */
export function credentialError(error: unknown, c: Coordinates): PlatformError {
  const raw = error instanceof Error ? error.message : String(error);
  const said = redactText(raw.split('\n').find((line) => line.trim() !== '') ?? '').trim();
  const words =
    said.length > 300 ? `${said.slice(0, 300)}…` : said || 'the credential plugin failed without a word';
  return new PlatformError(
    'unauthenticated',
    `could not get Kubernetes credentials for ${c.service}${c.context ? ` (context ${c.context})` : ''}: ${words}. Check the kubeconfig user the bot runs with (its token, client certificate or exec plugin)`,
    { cause: { message: words } },
  );
}
