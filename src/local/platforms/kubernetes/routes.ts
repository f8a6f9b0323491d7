import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppsApi, ListFilter } from './api.ts';
import type { Cluster, Resource } from './cluster.ts';
import {
  API_GROUP_LIST,
  APPS_V1_RESOURCES,
  AUTOSCALING_V1_RESOURCES,
  apiGroup,
  apiVersions,
  CORE_V1_RESOURCES,
  VERSION_INFO,
} from './discovery.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { forbidden, genericError, KubeApiError } from './status-errors.ts';
import { serveWatch } from './watch.ts';
import { parseJsonBody } from './wire.ts';

/**
 * The fake's HTTP surface: request log, injected failures, bearer-token check, RBAC denials,
 * discovery, and the apps/v1 routes (see server.ts for the list).
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
}

export interface RouteContext {
  api: AppsApi;
  cluster: Cluster;
  requests: RecordedRequest[];
  /** HTTP statuses the next requests answer with. */
  failures: number[];
  /** "verb resource" pairs RBAC forbids. */
  denied: Set<string>;
  /** Open watches, ended when the fake closes. */
  watches: Set<() => void>;
  token: string | undefined;
  user: string;
}

const DISCOVERY: Record<string, (host: string) => JsonObject> = {
  '/version': () => VERSION_INFO,
  '/api': (host) => apiVersions(host),
  '/api/v1': () => CORE_V1_RESOURCES,
  '/apis': () => API_GROUP_LIST,
  '/apis/apps': () => apiGroup('apps'),
  '/apis/apps/v1': () => APPS_V1_RESOURCES,
  '/apis/autoscaling': () => apiGroup('autoscaling'),
  '/apis/autoscaling/v1': () => AUTOSCALING_V1_RESOURCES,
};

const RESOURCE_PATH =
  /^\/apis\/apps\/v1\/(?:namespaces\/([a-z0-9-]+)\/)?(deployments|replicasets)(?:\/([a-z0-9.-]+))?(?:\/(scale|status))?$/;

function send(
  res: ServerResponse,
  status: number,
  body: JsonObject,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: KubeApiError): void {
  send(res, error.code, error.toStatus(), error.code === 429 ? { 'Retry-After': '0' } : {});
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function verbOf(method: string, name: string | undefined, watch: boolean): string {
  if (method === 'GET') return name ? 'get' : watch ? 'watch' : 'list';
  return { PUT: 'update', PATCH: 'patch', POST: 'create', DELETE: 'delete' }[method] ?? method.toLowerCase();
}

async function handle(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { api, cluster, requests, failures, denied, watches, token, user } = ctx;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const contentType = req.headers['content-type']?.split(';')[0]?.trim();
  const text = method === 'GET' ? '' : await readBody(req);
  requests.push({
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType,
    body: text === '' ? undefined : safeJson(text),
  });
  const failure = failures.shift();
  if (failure !== undefined) throw genericError(failure);
  if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
    throw new KubeApiError(401, 'Unauthorized');
  }

  const discovery = DISCOVERY[url.pathname];
  if (discovery && method === 'GET') return send(res, 200, discovery(req.headers.host ?? '127.0.0.1'));

  const match = RESOURCE_PATH.exec(url.pathname);
  if (!match) throw new KubeApiError(404, 'the server could not find the requested resource');
  const [, ns, resourceName, name, sub] = match;
  const resource = resourceName as Resource;
  const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const verb = verbOf(method, name, watch);
  const rbacResource = sub ? `${resource}/${sub}` : resource;
  if (denied.has(`${verb} ${rbacResource}`)) throw forbidden(user, verb, rbacResource, name ?? '', ns ?? '');
  const dryRun = url.searchParams.get('dryRun') === 'All';

  if (!name) {
    if (method !== 'GET')
      throw new KubeApiError(405, `the server does not allow this method on the requested resource`);
    const filter: ListFilter = {
      labels: parseLabelSelector(url.searchParams.get('labelSelector') ?? ''),
      fields: parseFieldSelector(url.searchParams.get('fieldSelector') ?? ''),
    };
    const list = api.list(resource, ns, filter);
    if (!watch) return send(res, 200, list);
    const initial = (Array.isArray(list.items) ? list.items.filter(isJsonObject) : []).map((item) => ({
      kind: resource === 'deployments' ? 'Deployment' : 'ReplicaSet',
      apiVersion: 'apps/v1',
      ...item,
    }));
    const end = serveWatch(res, cluster, {
      resource,
      namespace: ns,
      filter,
      query: url.searchParams,
      initial,
      matches: (f, meta) => api.matches(f, meta),
    });
    watches.add(end);
    res.on('close', () => watches.delete(end));
    return;
  }
  if (!ns) throw new KubeApiError(404, 'the server could not find the requested resource');
  const body = () => parseJsonBody(text);
  const patchType = contentType ?? '';

  if (resource === 'replicasets') {
    if (method !== 'GET' || sub === 'scale')
      throw new KubeApiError(405, 'the server does not allow this method');
    return send(res, 200, api.getReplicaSet(ns, name));
  }
  if (sub === 'scale') {
    if (method === 'GET') return send(res, 200, api.getScale(ns, name));
    if (method === 'PUT') return send(res, 200, api.replaceScale(ns, name, body(), dryRun));
    if (method === 'PATCH') return send(res, 200, api.patchScale(ns, name, patchType, body(), dryRun));
  } else if (sub === 'status') {
    if (method === 'GET') return send(res, 200, api.getDeployment(ns, name));
  } else {
    if (method === 'GET') return send(res, 200, api.getDeployment(ns, name));
    if (method === 'PUT') return send(res, 200, api.replaceDeployment(ns, name, body(), dryRun));
    if (method === 'PATCH') return send(res, 200, api.patchDeployment(ns, name, patchType, body(), dryRun));
  }
  throw new KubeApiError(405, 'the server does not allow this method on the requested resource');
}

/** The request listener of the fake's HTTP server. */
export function createRouter(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(
        res,
        error instanceof KubeApiError
          ? error
          : new KubeApiError(500, `Internal error occurred: ${String(error)}`),
      );
    });
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
