import { z } from 'zod';
import { type AppServiceModel, DEPLOYMENT_STATUS, PRODUCTION, type SlotState } from './state.ts';
import {
  appSettingsJson,
  type Coordinates,
  deploymentJson,
  errorBody,
  planJson,
  siteId,
  siteJson,
  slotConfigNamesJson,
  webConfigJson,
} from './wire.ts';

/**
 * The Microsoft.Web REST routes the fake answers, on the ARM URL scheme
 * `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/{sites|serverfarms}/{name}/…`
 * (segments compared case-insensitively, as ARM does).
 */

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface RouteContext {
  model: AppServiceModel;
  coordinates: Coordinates;
  baseUrl: string;
  apiVersion: string;
  swapPolls: number;
  pageSize: number;
}

export interface FakeRequest {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: unknown;
}

const eq = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase();

const ok = (body?: unknown): FakeResponse => ({ status: 200, body });
const fail = (status: number, code: string, message: string): FakeResponse => ({
  status,
  body: errorBody(code, message),
});

function notFound(c: Coordinates, type: string, name: string, resourceGroup = c.resourceGroup): FakeResponse {
  return fail(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

function badRequest(message: string): FakeResponse {
  return fail(400, 'BadRequest', message);
}

/** The RBAC action a request needs: named in 403 answers, as ARM does. */
export function actionFor(method: string, segments: string[]): string {
  const type = segments[6]?.toLowerCase();
  if (type === 'serverfarms') return `Microsoft.Web/serverfarms/${method === 'GET' ? 'read' : 'write'}`;
  let rest = segments.slice(8).map((s) => s.toLowerCase());
  let prefix = 'Microsoft.Web/sites';
  if (rest[0] === 'slots' && rest.length >= 2) {
    prefix = 'Microsoft.Web/sites/slots';
    rest = rest.slice(2);
  }
  const path = rest.join('/');
  if (path === 'config/appsettings/list') return `${prefix}/config/list/action`;
  if (path.startsWith('config')) return `${prefix}/config/${method === 'GET' ? 'read' : 'write'}`;
  if (path.startsWith('deployments')) return `${prefix}/deployments/${method === 'GET' ? 'read' : 'write'}`;
  if (['restart', 'start', 'stop', 'slotsswap'].includes(path)) return `${prefix}/${path}/action`;
  return `${prefix}/${method === 'GET' ? 'read' : 'write'}`;
}

// ---------------------------------------------------------------- bodies

const appSettingsBody = z.object({ properties: z.record(z.string(), z.string()) });
const rampUpRuleBody = z
  .object({
    name: z.string().nullish(),
    actionHostName: z.string().min(1),
    reroutePercentage: z.number().min(0).max(100),
  })
  .loose();
const webConfigBody = z.object({
  properties: z
    .object({
      linuxFxVersion: z.string().optional(),
      experiments: z
        .object({ rampUpRules: z.array(rampUpRuleBody).nullish() })
        .loose()
        .nullish(),
    })
    .loose(),
});
const slotSwapBody = z.object({ targetSlot: z.string().min(1), preserveVnet: z.boolean().optional() });
const slotConfigNamesBody = z.object({
  properties: z
    .object({
      appSettingNames: z.array(z.string()).nullish(),
      connectionStringNames: z.array(z.string()).nullish(),
      azureStorageConfigNames: z.array(z.string()).nullish(),
    })
    .loose(),
});
const deploymentBody = z.object({
  properties: z.object({
    status: z.number().int().optional(),
    message: z.string().optional(),
    author: z.string().optional(),
    deployer: z.string().optional(),
    author_email: z.string().optional(),
    start_time: z.iso.datetime({ offset: true }).optional(),
    end_time: z.iso.datetime({ offset: true }).optional(),
    active: z.boolean().optional(),
    details: z.string().optional(),
  }),
});
const planBody = z.object({
  location: z.string().min(1),
  sku: z.object({ name: z.string().optional(), capacity: z.number().int() }).loose(),
});

function parseBody<T>(schema: z.ZodType<T>, body: unknown): { value: T } | { error: FakeResponse } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    error: badRequest(`The request body is invalid: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`),
  };
}

// ---------------------------------------------------------------- routing

export function route(ctx: RouteContext, req: FakeRequest): FakeResponse {
  const c = ctx.coordinates;
  const [s0, sub, s2, rg, s4, provider, type, name, ...rest] = req.segments;
  if (
    !eq(s0, 'subscriptions') ||
    !eq(s2, 'resourceGroups') ||
    !eq(s4, 'providers') ||
    !eq(provider, 'Microsoft.Web')
  ) {
    return fail(
      404,
      'InvalidResourceType',
      `The path '/${req.segments.join('/')}' is not a Microsoft.Web resource.`,
    );
  }
  if (!eq(sub, c.subscriptionId)) {
    return fail(404, 'SubscriptionNotFound', `The subscription '${sub ?? ''}' could not be found.`);
  }
  if (eq(type, 'serverfarms')) return planRoute(ctx, req, rg ?? '', name ?? '', rest);
  if (!eq(rg, c.resourceGroup)) {
    return fail(404, 'ResourceGroupNotFound', `Resource group '${rg ?? ''}' could not be found.`);
  }
  if (!eq(type, 'sites'))
    return fail(400, 'InvalidResourceType', `The resource type '${type ?? ''}' is not supported.`);
  if (!eq(name, c.app)) return notFound(c, 'Microsoft.Web/sites', name ?? '');
  let slot = ctx.model.mustSlot(PRODUCTION);
  let tail = rest;
  if (eq(tail[0], 'slots')) {
    if (tail.length === 1) {
      if (req.method !== 'GET') return fail(405, 'MethodNotAllowed', 'The requested method is not allowed.');
      const slots = [...ctx.model.slots.values()].filter((s) => s.slot !== PRODUCTION);
      return ok({ value: slots.map((s) => siteJson(ctx.model, c, s)), nextLink: null });
    }
    const found = ctx.model.slot(tail[1] ?? '');
    if (!found || found.slot === PRODUCTION)
      return notFound(c, 'Microsoft.Web/sites/slots', `${c.app}/${tail[1] ?? ''}`);
    slot = found;
    tail = tail.slice(2);
  }
  return siteRoute(ctx, req, slot, tail);
}

const MUTATIONS = new Set([
  'config/web',
  'config/appsettings',
  'config/slotconfignames',
  'deployments',
  'restart',
  'start',
  'stop',
  'slotsswap',
]);

function siteRoute(ctx: RouteContext, req: FakeRequest, slot: SlotState, tail: string[]): FakeResponse {
  const { model, coordinates: c } = ctx;
  const path = tail.map((s) => s.toLowerCase()).join('/');
  const key = `${req.method} ${tail.length === 2 && eq(tail[0], 'deployments') ? 'deployments/{id}' : path}`;
  const mutation = req.method !== 'GET' && (MUTATIONS.has(path) || key === 'PUT deployments/{id}');
  const running = model.swapInProgress();
  if (mutation && running) {
    return fail(
      409,
      'Conflict',
      `Cannot modify this site because another operation is in progress. Details: Id: ${running.id}, OperationName: SwapSiteSlots, CreatedTime: ${running.startTime.toISOString()}`,
    );
  }
  switch (key) {
    case 'GET ':
      return ok(siteJson(model, c, slot));
    case 'GET config/web':
      return ok(webConfigJson(model, c, slot));
    case 'PUT config/web':
    case 'PATCH config/web': {
      const parsed = parseBody(webConfigBody, req.body);
      if ('error' in parsed) return parsed.error;
      const rules = parsed.value.properties.experiments?.rampUpRules;
      if (rules) {
        // Routing goes from production to another slot of the same app, by its host name.
        const hosts = new Map(
          [...model.slots.keys()]
            .filter((name) => name !== slot.slot)
            .map((name) => [`${c.app}-${name}.azurewebsites.net`.toLowerCase(), name]),
        );
        for (const rule of rules) {
          if (!hosts.has(rule.actionHostName.toLowerCase())) {
            return fail(
              400,
              'BadRequest',
              `RampUpRule actionHostName '${rule.actionHostName}' is not a slot of site '${c.app}'.`,
            );
          }
        }
        const total = rules.reduce((sum, r) => sum + r.reroutePercentage, 0);
        if (total > 100) return fail(400, 'BadRequest', 'The sum of reroutePercentage exceeds 100.');
        slot.rampUpRules = rules.map((r) => ({
          name: r.name ?? undefined,
          actionHostName: r.actionHostName,
          reroutePercentage: r.reroutePercentage,
        }));
      }
      const next = parsed.value.properties.linuxFxVersion;
      if (next !== undefined && next !== slot.linuxFxVersion) {
        slot.linuxFxVersion = next;
        model.restart(slot);
      }
      return ok(webConfigJson(model, c, slot));
    }
    case 'POST config/appsettings/list':
      return ok(appSettingsJson(c, slot));
    case 'PUT config/appsettings': {
      const parsed = parseBody(appSettingsBody, req.body);
      if ('error' in parsed) return parsed.error;
      slot.appSettings = { ...parsed.value.properties };
      model.restart(slot);
      return ok(appSettingsJson(c, slot));
    }
    // One resource per app (there is no slots/{slot}/config/slotConfigNames); PUT replaces all three lists.
    case 'GET config/slotconfignames':
    case 'PUT config/slotconfignames': {
      if (slot.slot !== PRODUCTION) return operationRoute(ctx, req, tail);
      if (req.method === 'PUT') {
        const parsed = parseBody(slotConfigNamesBody, req.body);
        if ('error' in parsed) return parsed.error;
        const p = parsed.value.properties;
        model.stickySettings.clear();
        for (const n of p.appSettingNames ?? []) model.stickySettings.add(n);
        model.stickyConnectionStrings = [...(p.connectionStringNames ?? [])];
        model.stickyStorageConfigs = [...(p.azureStorageConfigNames ?? [])];
      }
      return ok(slotConfigNamesJson(model, c));
    }
    case 'GET deployments':
      return listDeployments(ctx, req, slot, tail);
    case 'GET deployments/{id}':
    case 'PUT deployments/{id}':
      return deploymentRoute(ctx, req, slot, tail[1] ?? '');
    case 'POST restart':
      model.restart(slot);
      return ok();
    case 'POST start':
      if (slot.state === 'Stopped') model.restart(slot);
      slot.state = 'Running';
      return ok();
    case 'POST stop':
      slot.state = 'Stopped';
      return ok();
    case 'POST slotsswap':
      return startSwap(ctx, req, slot);
    default:
      return operationRoute(ctx, req, tail);
  }
}

function listDeployments(ctx: RouteContext, req: FakeRequest, slot: SlotState, tail: string[]): FakeResponse {
  const c = ctx.coordinates;
  const offset = Number(req.query.get('$skiptoken') ?? '0');
  if (!Number.isInteger(offset) || offset < 0) return badRequest('The $skiptoken is invalid.');
  const page = slot.deployments.slice(offset, offset + ctx.pageSize);
  const more = offset + ctx.pageSize < slot.deployments.length;
  const path = `${siteId(c, slot.slot)}/${tail.join('/')}`;
  return ok({
    value: page.map((d) => deploymentJson(c, slot, d)),
    nextLink: more
      ? `${ctx.baseUrl}${path}?api-version=${ctx.apiVersion}&$skiptoken=${offset + ctx.pageSize}`
      : null,
  });
}

function deploymentRoute(ctx: RouteContext, req: FakeRequest, slot: SlotState, id: string): FakeResponse {
  const { model, coordinates: c } = ctx;
  const existing = slot.deployments.find((d) => d.id.toLowerCase() === id.toLowerCase());
  if (req.method === 'GET') {
    return existing
      ? ok(deploymentJson(c, slot, existing))
      : fail(404, 'NotFound', `Cannot find Deployment with name ${id}.`);
  }
  const parsed = parseBody(deploymentBody, req.body);
  if ('error' in parsed) return parsed.error;
  const p = parsed.value.properties;
  const now = model.timestamp();
  const record = {
    id,
    status: p.status ?? DEPLOYMENT_STATUS.success,
    message: p.message ?? '',
    author: p.author ?? '',
    deployer: p.deployer ?? '',
    authorEmail: p.author_email,
    startTime: p.start_time ? new Date(p.start_time) : now,
    endTime: p.end_time ? new Date(p.end_time) : undefined,
    active: p.active ?? false,
    details: p.details ?? '',
  };
  model.addDeployment(slot, record);
  return ok(deploymentJson(c, slot, record));
}

function startSwap(ctx: RouteContext, req: FakeRequest, slot: SlotState): FakeResponse {
  const { model, coordinates: c } = ctx;
  const parsed = parseBody(slotSwapBody, req.body);
  if ('error' in parsed) return parsed.error;
  const other = model.slot(parsed.value.targetSlot);
  if (!other) return badRequest(`The slot '${parsed.value.targetSlot}' does not exist for site '${c.app}'.`);
  if (other.slot === slot.slot) return badRequest('The source and target slots of a swap must differ.');
  // POST sites/{app}/slotsswap swaps targetSlot into production; POST …/slots/{slot}/slotsswap swaps slot into targetSlot.
  const [source, target] = slot.slot === PRODUCTION ? [other, slot] : [slot, other];
  const op = model.startSwap(source.slot, target.slot, ctx.swapPolls);
  const base = `${ctx.baseUrl}${siteId(c, PRODUCTION)}`;
  return {
    status: 202,
    headers: {
      'Azure-AsyncOperation': `${base}/operations/${op.id}?api-version=${ctx.apiVersion}`,
      Location: `${base}/operationresults/${op.id}?api-version=${ctx.apiVersion}`,
    },
  };
}

function operationRoute(ctx: RouteContext, req: FakeRequest, tail: string[]): FakeResponse {
  const { model, coordinates: c } = ctx;
  const [kind, id] = tail;
  const op = id ? model.operations.get(id) : undefined;
  if (req.method === 'GET' && tail.length === 2 && (eq(kind, 'operations') || eq(kind, 'operationresults'))) {
    if (!op) return fail(404, 'NotFound', `Operation ${id ?? ''} not found.`);
    if (eq(kind, 'operations')) {
      model.pollSwap(op);
      return ok({
        id: `${siteId(c, PRODUCTION)}/operations/${op.id}`,
        name: op.id,
        status: op.status,
        startTime: op.startTime.toISOString(),
        ...(op.endTime ? { endTime: op.endTime.toISOString() } : {}),
        ...(op.error ? { error: op.error } : {}),
      });
    }
    if (op.status === 'InProgress') {
      return {
        status: 202,
        headers: { Location: `${ctx.baseUrl}${siteId(c, PRODUCTION)}/operationresults/${op.id}` },
      };
    }
    return ok();
  }
  return fail(
    404,
    'NotFound',
    `No route for ${req.method} ${tail.join('/') || '(site)'} in the App Service fake.`,
  );
}

function planRoute(
  ctx: RouteContext,
  req: FakeRequest,
  rg: string,
  name: string,
  rest: string[],
): FakeResponse {
  const { model, coordinates: c } = ctx;
  const plan = model.plan;
  if (!eq(rg, plan.resourceGroup) || !eq(name, plan.name)) {
    return eq(rg, plan.resourceGroup) || eq(rg, c.resourceGroup)
      ? notFound(c, 'Microsoft.Web/serverFarms', name, rg)
      : fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  }
  if (rest.length > 0)
    return fail(404, 'NotFound', `No route for serverfarms/${rest.join('/')} in the App Service fake.`);
  if (req.method === 'GET') return ok(planJson(model, c));
  if (req.method !== 'PUT') return fail(405, 'MethodNotAllowed', 'The requested method is not allowed.');
  const parsed = parseBody(planBody, req.body);
  if ('error' in parsed) return parsed.error;
  const capacity = parsed.value.sku.capacity;
  if (capacity < 1 || capacity > plan.maximumNumberOfWorkers) {
    return badRequest(
      `The number of workers ${capacity} is out of range: this plan (${plan.tier}) allows 1 to ${plan.maximumNumberOfWorkers}.`,
    );
  }
  plan.capacity = capacity;
  return ok(planJson(model, c));
}
