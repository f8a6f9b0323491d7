/**
 * Cloud Run Admin API v2 wire format, as the fake speaks it: proto3 JSON (camelCase, int64 as
 * strings, RFC 3339 timestamps, durations as "300s"), enums as names or, when the client asks with
 * `$alt=json;enum-encoding=int` (the Node SDK's REST transport always does), as numbers; errors as
 * google.rpc.Status inside `{ "error": … }`.
 */

export const SERVICE_TYPE = 'type.googleapis.com/google.cloud.run.v2.Service';

type EnumTable = Record<string, number>;

function table(names: readonly string[]): EnumTable {
  return Object.fromEntries(names.map((n, i) => [n, i]));
}

const CONDITION_STATE = table([
  'STATE_UNSPECIFIED',
  'CONDITION_PENDING',
  'CONDITION_RECONCILING',
  'CONDITION_FAILED',
  'CONDITION_SUCCEEDED',
]);
const SEVERITY = table(['SEVERITY_UNSPECIFIED', 'ERROR', 'WARNING', 'INFO']);
const COMMON_REASON: EnumTable = {
  COMMON_REASON_UNDEFINED: 0,
  UNKNOWN: 1,
  REVISION_FAILED: 3,
  PROGRESS_DEADLINE_EXCEEDED: 4,
  CONTAINER_MISSING: 6,
  CONTAINER_PERMISSION_DENIED: 7,
  CONTAINER_IMAGE_UNAUTHORIZED: 8,
  CONTAINER_IMAGE_AUTHORIZATION_CHECK_FAILED: 9,
  ENCRYPTION_KEY_PERMISSION_DENIED: 10,
  ENCRYPTION_KEY_CHECK_FAILED: 11,
  SECRETS_ACCESS_CHECK_FAILED: 12,
  WAITING_FOR_OPERATION: 13,
  IMMEDIATE_RETRY: 14,
  POSTPONED_RETRY: 15,
  INTERNAL: 16,
  VPC_NETWORK_NOT_FOUND: 17,
};
const REVISION_REASON = table([
  'REVISION_REASON_UNDEFINED',
  'PENDING',
  'RESERVE',
  'RETIRED',
  'RETIRING',
  'RECREATING',
  'HEALTH_CHECK_CONTAINER_ERROR',
  'CUSTOMIZED_PATH_RESPONSE_PENDING',
  'MIN_INSTANCES_NOT_PROVISIONED',
  'ACTIVE_REVISION_LIMIT_REACHED',
  'NO_DEPLOYMENT',
  'HEALTH_CHECK_SKIPPED',
  'MIN_INSTANCES_WARMING',
]);
export const TRAFFIC_TYPE = table([
  'TRAFFIC_TARGET_ALLOCATION_TYPE_UNSPECIFIED',
  'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST',
  'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
]);
const INGRESS = table([
  'INGRESS_TRAFFIC_UNSPECIFIED',
  'INGRESS_TRAFFIC_ALL',
  'INGRESS_TRAFFIC_INTERNAL_ONLY',
  'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
  'INGRESS_TRAFFIC_NONE',
]);
const LAUNCH_STAGE: EnumTable = {
  LAUNCH_STAGE_UNSPECIFIED: 0,
  UNIMPLEMENTED: 6,
  PRELAUNCH: 7,
  EARLY_ACCESS: 1,
  ALPHA: 2,
  BETA: 3,
  GA: 4,
  DEPRECATED: 5,
};
const EXECUTION_ENVIRONMENT = table([
  'EXECUTION_ENVIRONMENT_UNSPECIFIED',
  'EXECUTION_ENVIRONMENT_GEN1',
  'EXECUTION_ENVIRONMENT_GEN2',
]);
const REVOCATION_ACTION = table(['ENCRYPTION_KEY_REVOCATION_ACTION_UNSPECIFIED', 'PREVENT_NEW', 'SHUTDOWN']);

/** Enum fields by JSON key; `type` is an enum only inside traffic lists (a Condition's type is a string). */
const ENUM_FIELDS: Record<string, EnumTable> = {
  state: CONDITION_STATE,
  severity: SEVERITY,
  reason: COMMON_REASON,
  revisionReason: REVISION_REASON,
  ingress: INGRESS,
  launchStage: LAUNCH_STAGE,
  executionEnvironment: EXECUTION_ENVIRONMENT,
  encryptionKeyRevocationAction: REVOCATION_ACTION,
};

function enumTableFor(key: string, parentKey: string | undefined): EnumTable | undefined {
  if (key === 'type')
    return parentKey === 'traffic' || parentKey === 'trafficStatuses' ? TRAFFIC_TYPE : undefined;
  return ENUM_FIELDS[key];
}

function convertEnums(value: unknown, to: 'name' | 'number', parentKey?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => convertEnums(v, to, parentKey));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const enumTable = enumTableFor(key, parentKey);
    if (enumTable && (typeof v === 'string' || typeof v === 'number')) {
      if (to === 'number') out[key] = typeof v === 'string' ? (enumTable[v] ?? v) : v;
      else
        out[key] = typeof v === 'number' ? (Object.keys(enumTable).find((n) => enumTable[n] === v) ?? v) : v;
    } else {
      out[key] = convertEnums(v, to, key);
    }
  }
  return out;
}

/** Incoming JSON, with enums in either encoding, normalised to names. */
export function enumsToNames<T>(value: T): T {
  return convertEnums(value, 'name') as T;
}

/** Outgoing JSON in the encoding the client asked for. */
export function renderJson(value: unknown, numericEnums: boolean): string {
  return JSON.stringify(numericEnums ? convertEnums(value, 'number') : value);
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** gRPC codes by canonical name, for google.rpc.Status inside a failed operation. */
export const GRPC_CODE: Record<string, number> = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

/** An API error: HTTP status, Google's canonical status name and message. */
export class ApiError extends Error {
  readonly httpStatus: number;
  readonly status: string;
  readonly details: unknown[];
  constructor(httpStatus: number, message: string, status?: string, details: unknown[] = []) {
    super(message);
    this.httpStatus = httpStatus;
    this.status = status ?? STATUS_NAMES[httpStatus] ?? (httpStatus >= 500 ? 'INTERNAL' : 'UNKNOWN');
    this.details = details;
  }

  body(): { error: { code: number; message: string; status: string; details?: unknown[] } } {
    const error = { code: this.httpStatus, message: this.message, status: this.status };
    return { error: this.details.length > 0 ? { ...error, details: this.details } : error };
  }
}

/** What Google answers for a status with no more specific cause (used by failNext). */
export function genericError(httpStatus: number, resource: string, permission: string): ApiError {
  switch (httpStatus) {
    case 401:
      return new ApiError(
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      );
    case 403:
      return permissionDenied(resource, permission);
    case 404:
      return new ApiError(404, `Resource '${resource}' was not found`);
    case 409:
      return new ApiError(409, `Conflict for resource '${resource}': version mismatch.`);
    case 429:
      return new ApiError(
        429,
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per region' of service 'run.googleapis.com'.",
      );
    case 503:
      return new ApiError(503, 'The service is currently unavailable.');
    case 504:
      return new ApiError(504, 'The request timed out.');
    default:
      return new ApiError(
        httpStatus,
        httpStatus >= 500 ? 'Internal error encountered.' : 'Request contains an invalid argument.',
      );
  }
}

export function permissionDenied(resource: string, permission: string): ApiError {
  return new ApiError(
    403,
    `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
    'PERMISSION_DENIED',
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'IAM_PERMISSION_DENIED',
        domain: 'run.googleapis.com',
        metadata: { permission, resource },
      },
    ],
  );
}

/** proto3 JSON treats default values as absent: strip them so templates compare by meaning. */
export function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(withoutDefaults);
    return items.length === 0 ? undefined : items;
  }
  if (value === null || value === undefined || value === '' || value === 0 || value === false)
    return undefined;
  if (typeof value === 'string' && value.endsWith('_UNSPECIFIED')) return undefined;
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = withoutDefaults((value as Record<string, unknown>)[key]);
    if (v !== undefined) out[key] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
