import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../clock.ts';
import { CloudRunState, type Json } from './state.ts';
import { ApiError, genericError, permissionDenied, renderJson } from './wire.ts';

/**
 * An in-process Cloud Run Admin API v2 on 127.0.0.1, speaking the REST wire format the official
 * Node SDK (`@google-cloud/run`, REST transport) uses:
 *   GET   /v2/projects/{p}/locations/{l}/services/{s}
 *   PATCH /v2/projects/{p}/locations/{l}/services/{s}?updateMask=…   → google.longrunning.Operation
 *   GET   /v2/projects/{p}/locations/{l}/services/{s}/revisions?pageSize=…&pageToken=…
 *   GET   /v2/projects/{p}/locations/{l}/services/{s}/revisions/{r}
 *   GET   /v2/projects/{p}/locations/{l}/operations/{id}
 * Requests need `Authorization: Bearer <accessToken>`. It also plays Google's OAuth 2.0 token
 * endpoint (oauth2.googleapis.com/token) at `POST /token`: a form-encoded refresh_token grant for
 * `refreshToken` gets `accessToken`; anything else, or every grant after refuseTokens(), gets
 * Google's OAuth error body (`{ error, error_description }`).
 */

export interface CloudRunFakeOptions {
  project?: string;
  region?: string;
  /** The service deploy() ships to. */
  service?: string;
  /** The bearer token requests must carry. */
  accessToken?: string;
  /** The refresh token the token endpoint exchanges for accessToken. */
  refreshToken?: string;
  /** How long Cloud Run takes to roll out a change. */
  reconcileMs?: number;
  clock?: Clock;
  /** The identity API updates are attributed to (revision `creator`). */
  caller?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface CloudRunFake {
  url: string;
  project: string;
  region: string;
  service: string;
  accessToken: string;
  refreshToken: string;
  /** Google's OAuth 2.0 token endpoint, as the fake plays it (`endpoints.oauth2TokenUrl`). */
  tokenUrl: string;
  /**
   * From now on the token endpoint refuses every grant with HTTP `status` and this OAuth error
   * (default 403 access_denied, as when the identity may no longer get tokens).
   */
  refuseTokens(status?: number, error?: string, description?: string): void;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** The service as GET returns it (undefined before the first deploy). */
  serviceResource(): Json | undefined;
  /** Its revisions as list returns them, newest first. */
  revisions(): Json[];
  /** A CI deploy of `image` (creating the service on first use), resolved once it has rolled out. */
  deploy(image: string, options?: { env?: Record<string, string>; creator?: string }): Promise<void>;
  /** A deploy whose container never starts; resolved once Cloud Run has given up on it. */
  deployBroken(image: string): Promise<void>;
  /** How long Cloud Run takes to roll out the next changes. */
  setReconcileMs(ms: number): void;
  /** From now on, revisions running `image` fail to start (e.g. the image was deleted from the registry). */
  breakImage(image: string): void;
  /**
   * The next `times` requests (whose path contains `pathContains`, when given) answer `status` in
   * Google's error shape (Retry-After: 0 on 429).
   */
  failNext(status: number, times?: number, pathContains?: string): void;
  /** The next request whose path contains `pathContains` is answered only after `ms`. */
  delayNext(ms: number, pathContains: string): void;
  /** Takes an IAM permission (e.g. run.services.update) away from the caller until restored. */
  deny(permission: string): void;
  allow(permission: string): void;
  close(): Promise<void>;
}

const SERVICE_PATH = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/:]+)$/;
const REVISIONS_PATH = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)\/revisions$/;
const REVISION_PATH = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)\/revisions\/([^/]+)$/;
const OPERATION_PATH = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/operations\/([^/]+)$/;

interface Route {
  permission: string;
  resource: string;
  handle: (body: unknown) => Json;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCloudRunFake(options: CloudRunFakeOptions = {}): Promise<CloudRunFake> {
  const project = options.project ?? 'barq-prod';
  const region = options.region ?? 'me-central1';
  const serviceId = options.service ?? 'barq-api';
  const accessToken = options.accessToken ?? 'fake-cloud-run-token';
  const refreshToken = options.refreshToken ?? 'fake-refresh-token';
  let tokenRefusal: { status: number; error: string; description: string } | undefined;
  const state = new CloudRunState({
    project,
    region,
    reconcileMs: options.reconcileMs ?? 20,
    clock: options.clock,
    caller: options.caller ?? `runbook-bot@${project}.iam.gserviceaccount.com`,
  });
  const requests: RecordedRequest[] = [];
  const failures: { status: number; pathContains: string | undefined }[] = [];
  const delays: { ms: number; pathContains: string }[] = [];
  const denied = new Set<string>();

  function route(method: string, path: string, query: URLSearchParams): Route {
    const located = (p: string, l: string) => {
      if (p !== project || l !== region) {
        const id = path.split('/')[6] ?? '';
        throw new ApiError(
          404,
          `Resource '${id}' of kind 'SERVICE' in region '${l}' in project '${p}' does not exist.`,
        );
      }
    };
    let m = SERVICE_PATH.exec(path);
    if (m) {
      const [, p = '', l = '', s = ''] = m;
      const resource = `namespaces/${p}/services/${s}`;
      if (method === 'GET') {
        return {
          permission: 'run.services.get',
          resource,
          handle: () => {
            located(p, l);
            return state.getService(s);
          },
        };
      }
      if (method === 'PATCH') {
        const mask = query.get('updateMask');
        const paths = mask ? mask.split(',').map((x) => x.trim()) : undefined;
        return {
          permission: 'run.services.update',
          resource,
          handle: (body) => {
            located(p, l);
            return state.update(s, body, paths);
          },
        };
      }
    }
    m = REVISIONS_PATH.exec(path);
    if (m && method === 'GET') {
      const [, p = '', l = '', s = ''] = m;
      return {
        permission: 'run.revisions.list',
        resource: `namespaces/${p}/services/${s}`,
        handle: () => {
          located(p, l);
          return state.listRevisions(s, Number(query.get('pageSize') ?? 0), query.get('pageToken') ?? '');
        },
      };
    }
    m = REVISION_PATH.exec(path);
    if (m && method === 'GET') {
      const [, p = '', l = '', s = '', r = ''] = m;
      return {
        permission: 'run.revisions.get',
        resource: `namespaces/${p}/revisions/${r}`,
        handle: () => {
          located(p, l);
          return state.getRevision(s, r);
        },
      };
    }
    m = OPERATION_PATH.exec(path);
    if (m && method === 'GET') {
      const [, p = '', , id = ''] = m;
      return {
        permission: 'run.operations.get',
        resource: `projects/${p}`,
        handle: () => state.getOperation(id),
      };
    }
    throw new ApiError(404, `The requested URL ${method} ${path} was not found on this server.`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    let body: unknown;
    const numericEnums = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(renderJson(payload, numericEnums));
    };
    const query = Object.fromEntries(url.searchParams);
    if (url.pathname === '/token' && method === 'POST') {
      requests.push({ method, path: url.pathname, query, body: raw });
      const grant = new URLSearchParams(raw);
      if (tokenRefusal) {
        const { status, error, description } = tokenRefusal;
        send(status, { error, error_description: description });
      } else if (grant.get('grant_type') === 'refresh_token' && grant.get('refresh_token') === refreshToken) {
        send(200, {
          access_token: accessToken,
          expires_in: 3599,
          scope: 'https://www.googleapis.com/auth/cloud-platform',
          token_type: 'Bearer',
        });
      } else {
        send(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      }
      return;
    }
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      requests.push({ method, path: url.pathname, query, body: raw });
      send(400, new ApiError(400, 'Invalid JSON payload received.').body());
      return;
    }
    requests.push({ method, path: url.pathname, query, body });
    const delayed = delays.findIndex((d) => url.pathname.includes(d.pathContains));
    const delay = delayed < 0 ? undefined : delays.splice(delayed, 1)[0]?.ms;
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const target = route(method, url.pathname, url.searchParams);
      const index = failures.findIndex(
        (f) => f.pathContains === undefined || url.pathname.includes(f.pathContains),
      );
      const failure = index < 0 ? undefined : failures.splice(index, 1)[0]?.status;
      if (failure !== undefined) {
        const headers: Record<string, string> = failure === 429 ? { 'retry-after': '0' } : {};
        send(failure, genericError(failure, target.resource, target.permission).body(), headers);
        return;
      }
      if (req.headers.authorization !== `Bearer ${accessToken}`)
        throw genericError(401, target.resource, target.permission);
      if (denied.has(target.permission)) throw permissionDenied(target.resource, target.permission);
      send(200, target.handle(body));
    } catch (error) {
      if (error instanceof ApiError) send(error.httpStatus, error.body());
      else send(500, new ApiError(500, `Internal error: ${String(error)}`).body());
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(new ApiError(500, `Internal error: ${String(error)}`).body()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    project,
    region,
    service: serviceId,
    accessToken,
    refreshToken,
    tokenUrl: `http://127.0.0.1:${port}/token`,
    refuseTokens(status = 403, error = 'access_denied', description = 'Account restricted.') {
      tokenRefusal = { status, error, description };
    },
    requests,
    serviceResource: () => state.peekService(serviceId),
    revisions: () => state.peekRevisions(serviceId),
    deploy: (image, deployOptions) => state.deploy(serviceId, image, deployOptions),
    deployBroken: (image) => state.deploy(serviceId, image, { broken: true }),
    setReconcileMs: (ms) => state.setReconcileMs(ms),
    breakImage: (image) => void state.brokenImages.add(image),
    failNext(status, times = 1, pathContains) {
      for (let i = 0; i < times; i++) failures.push({ status, pathContains });
    },
    delayNext: (ms, pathContains) => void delays.push({ ms, pathContains }),
    deny: (permission) => void denied.add(permission),
    allow: (permission) => void denied.delete(permission),
    async close() {
      state.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
