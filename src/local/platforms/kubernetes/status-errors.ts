import type { JsonObject } from './json.ts';

/**
 * Failures as the API server reports them: a `Status` object (kind Status, apiVersion v1,
 * status Failure) with the HTTP code, a machine reason (metav1.StatusReason) and a message.
 */

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const GENERIC_MESSAGES: Record<number, string> = {
  401: 'Unauthorized',
  403: 'forbidden: the server does not allow this request',
  404: 'the server could not find the requested resource',
  409: 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
  429: 'Too many requests, please try again later.',
  500: 'Internal error occurred: the server encountered an unexpected condition',
  503: 'the server is currently unable to handle the request',
  504: 'the server was unable to return a response in the time allotted, but may still be processing the request',
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason: string; message: string; field: string }[];
  retryAfterSeconds?: number;
}

export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, message: string, details?: StatusDetails, reason?: string) {
    super(message);
    this.code = code;
    this.reason = reason ?? REASONS[code] ?? (code >= 500 ? 'InternalError' : 'BadRequest');
    this.details = details;
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = JSON.parse(JSON.stringify(this.details)) as JsonObject;
    return status;
  }
}

/** The Status a failing API server answers with for an arbitrary HTTP code (failNext). */
export function genericError(code: number): KubeApiError {
  const message = GENERIC_MESSAGES[code] ?? `the server responded with HTTP ${code}`;
  return new KubeApiError(code, message, code === 429 ? { retryAfterSeconds: 0 } : undefined);
}

const groupResource = (resource: string) =>
  resource === 'replicasets' || resource === 'deployments' ? `${resource}.apps` : resource;

export function notFound(resource: string, name: string): KubeApiError {
  return new KubeApiError(404, `${groupResource(resource)} "${name}" not found`, {
    name,
    group: 'apps',
    kind: resource,
  });
}

export function conflict(resource: string, name: string): KubeApiError {
  return new KubeApiError(
    409,
    `Operation cannot be fulfilled on ${groupResource(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: 'apps', kind: resource },
  );
}

export function forbidden(
  user: string,
  verb: string,
  resource: string,
  name: string,
  namespace: string,
): KubeApiError {
  const [base, sub] = resource.split('/');
  const what = sub ? `resource "${base}/${sub}"` : `resource "${base}"`;
  return new KubeApiError(
    403,
    `${groupResource(base ?? resource)} "${name}" is forbidden: User "${user}" cannot ${verb} ${what} in API group "apps" in the namespace "${namespace}"`,
    { name, group: 'apps', kind: base ?? resource },
  );
}

export function invalid(kind: string, name: string, field: string, detail: string): KubeApiError {
  return new KubeApiError(422, `${kind}.apps "${name}" is invalid: ${field}: ${detail}`, {
    name,
    group: 'apps',
    kind,
    causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  });
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, message);
}
