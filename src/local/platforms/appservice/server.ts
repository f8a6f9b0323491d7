import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createSelfSignedCertificate } from './certificate.ts';
import { actionFor, type FakeResponse, type RouteContext, route } from './routes.ts';
import { AppServiceModel, type DeploymentRecord, imageOf, PRODUCTION } from './state.ts';
import { type Coordinates, errorBody, errorForStatus } from './wire.ts';

/**
 * An in-process Azure Resource Manager fake for one App Service web app, speaking the Microsoft.Web
 * REST wire format over https on 127.0.0.1 (the Azure SDK sends bearer tokens over https only; trust
 * `certificate` with `new https.Agent({ ca: fake.certificate })`). It checks the bearer token and the
 * `api-version` query parameter, answers slot swaps as long-running operations (202 with
 * `Azure-AsyncOperation` + `Location`, status `InProgress` then `Succeeded`), pages deployment lists
 * with `nextLink`, and answers errors with the ARM body `{ error: { code, message } }`.
 */

export interface AppServiceFakeOptions {
  subscriptionId?: string;
  resourceGroup?: string;
  app?: string;
  plan?: string;
  /** Resource group of the plan; default: the app's. */
  planResourceGroup?: string;
  /** Deployment slot besides production; `null` for an app without slots. Default `staging`. */
  slot?: string | null;
  location?: string;
  /** Plan workers (sku.capacity); default 2. */
  capacity?: number;
  maximumNumberOfWorkers?: number;
  /** Image every slot runs before the first deploy. */
  initialImage?: string;
  /** The bearer token the fake accepts. */
  token?: string;
  /** How long the app warms up after a restart or a config/app-settings change (ms); default 25. */
  warmupMs?: number;
  /** Status polls a swap answers `InProgress` before it completes; default 1. */
  swapPolls?: number;
  /** Deployments per page of the list; default 20. */
  pageSize?: number;
  now?: () => Date;
}

export interface RecordedRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  body: unknown;
  status: number;
}

/** Which requests a failure applies to: method and/or a pattern of the path. */
export interface RequestMatch {
  method?: string;
  path?: RegExp;
}

export interface SlotView {
  state: 'Running' | 'Stopped';
  availabilityState: 'Normal' | 'Limited';
  image: string | undefined;
  appSettings: Record<string, string>;
  /** Newest first. */
  deployments: DeploymentRecord[];
  restarts: number;
  /** siteConfig.experiments.rampUpRules (production routes a share of its traffic to a slot). */
  rampUpRules: { name: string | undefined; actionHostName: string; reroutePercentage: number }[];
}

export interface AppServiceFake {
  /** API base URL, for the service's `platform.endpoint`. */
  url: string;
  /** PEM certificate of the fake's https server. */
  certificate: string;
  token: string;
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  plan: string;
  slot: string | undefined;
  model: AppServiceModel;
  requests: RecordedRequest[];
  /** A slot's state as the platform would report it (default production). */
  site(slot?: string): SlotView;
  capacity(): number;
  /**
   * Ships `image` as CI does, settled: with a slot, deploy to the slot then swap it into production
   * (the slot keeps the previous production content); without, deploy to production. Returns the
   * new deployment id.
   */
  deploy(image: string, options?: { author?: string; deployer?: string }): Promise<string>;
  /** Like deploy, with an image whose container never starts (deployment Failed, availability Limited). */
  deployBroken(image: string): Promise<string>;
  /** From now on `image` never starts, wherever it runs (already deployed ones too). */
  breakImage(image: string): void;
  /**
   * The first half of a blue/green deploy: ships `image` to the slot only, with its deployment
   * record, and does not swap. Production has never run it. Returns the deployment id.
   */
  stage(image: string, options?: { author?: string; deployer?: string }): Promise<string>;
  /**
   * The next `times` requests (those matching `only`, when given) answer `status` with an ARM error
   * body (Retry-After 0 for 429).
   */
  failNext(status: number, times?: number, only?: RequestMatch): void;
  /** The next `times` requests never get an answer (until close), for client timeouts. */
  stallNext(times?: number): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: FakeResponse): void {
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    ...(answer.headers ?? {}),
  };
  if (answer.body === undefined) {
    res.writeHead(answer.status, { ...headers, 'content-length': '0' });
    res.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export async function startAppServiceFake(options: AppServiceFakeOptions = {}): Promise<AppServiceFake> {
  const coordinates: Coordinates = {
    subscriptionId: options.subscriptionId ?? '00000000-0000-0000-0000-00000000c0de',
    resourceGroup: options.resourceGroup ?? 'fleet-rg',
    app: options.app ?? 'fleet-api',
    location: options.location ?? 'West Europe',
  };
  const slot = options.slot === null ? undefined : (options.slot ?? 'staging');
  const token = options.token ?? 'fake-arm-token';
  const model = new AppServiceModel({
    slots: slot ? [slot] : [],
    plan: {
      name: options.plan ?? `${coordinates.app}-plan`,
      resourceGroup: options.planResourceGroup ?? coordinates.resourceGroup,
      skuName: 'P1v3',
      tier: 'PremiumV3',
      capacity: options.capacity ?? 2,
      maximumNumberOfWorkers: options.maximumNumberOfWorkers ?? 30,
    },
    initialImage: options.initialImage ?? 'mcr.microsoft.com/appsvc/staticsite:latest',
    warmupMs: options.warmupMs ?? 25,
    now: options.now ?? (() => new Date()),
  });
  const requests: RecordedRequest[] = [];
  const failures: { status: number; only: RequestMatch | undefined }[] = [];
  let stalls = 0;
  const stalled = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const { cert, key } = createSelfSignedCertificate();
  let ctx: RouteContext | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const text = await readBody(req);
    let body: unknown;
    let badJson = false;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        badJson = true;
      }
    }
    const apiVersion = url.searchParams.get('api-version');
    const segments = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeURIComponent);
    const record: RecordedRequest = { method, path: url.pathname, apiVersion, body, status: 0 };
    requests.push(record);
    const answer = (response: FakeResponse) => {
      record.status = response.status;
      send(res, response);
    };
    if (stalls > 0) {
      stalls -= 1;
      stalled.add(res);
      return;
    }
    const index = failures.findIndex(
      ({ only }) =>
        (!only?.method || only.method.toUpperCase() === method) &&
        (!only?.path || only.path.test(url.pathname)),
    );
    const failure = index >= 0 ? failures.splice(index, 1)[0]?.status : undefined;
    if (failure !== undefined) {
      const error = errorForStatus(failure, coordinates, actionFor(method, segments));
      return answer({
        status: failure,
        headers: failure === 429 ? { 'Retry-After': '0' } : {},
        body: errorBody(error.code, error.message),
      });
    }
    const authorization = req.headers.authorization;
    if (authorization !== `Bearer ${token}`) {
      return answer({
        status: 401,
        body: errorBody(
          authorization ? 'InvalidAuthenticationToken' : 'AuthenticationFailed',
          authorization
            ? 'The access token is invalid.'
            : 'Authentication failed. The Authorization header is missing.',
        ),
      });
    }
    if (!apiVersion) {
      return answer({
        status: 400,
        body: errorBody(
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        ),
      });
    }
    if (badJson)
      return answer({ status: 400, body: errorBody('BadRequest', 'The request body is not valid JSON.') });
    if (!ctx) throw new Error('fake not listening yet');
    answer(route({ ...ctx, apiVersion }, { method, segments, query: url.searchParams, body }));
  };

  const server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, { status: 500, body: errorBody('InternalServerError', String(error)) });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  ctx = {
    model,
    coordinates,
    baseUrl: url,
    apiVersion: '',
    swapPolls: options.swapPolls ?? 1,
    pageSize: options.pageSize ?? 20,
  };

  const ship = async (image: string, broken: boolean, author = 'ci', deployer = 'GitHub Actions') => {
    if (!slot) return model.deployTo(model.mustSlot(PRODUCTION), image, { broken, author, deployer });
    const id = model.deployTo(model.mustSlot(slot), image, { broken, author, deployer });
    model.swap(model.mustSlot(slot), model.mustSlot(PRODUCTION));
    return id;
  };

  return {
    url,
    certificate: cert,
    token,
    subscriptionId: coordinates.subscriptionId,
    resourceGroup: coordinates.resourceGroup,
    app: coordinates.app,
    plan: model.plan.name,
    slot,
    model,
    requests,
    site(name = PRODUCTION) {
      const s = model.mustSlot(name);
      return {
        state: s.state,
        availabilityState: model.availabilityState(s),
        image: imageOf(s.linuxFxVersion),
        appSettings: { ...s.appSettings },
        deployments: s.deployments.map((d) => ({ ...d })),
        restarts: s.restarts,
        rampUpRules: s.rampUpRules.map((r) => ({ ...r })),
      };
    },
    capacity: () => model.plan.capacity,
    deploy: async (image, o = {}) => ship(image, false, o.author, o.deployer),
    deployBroken: async (image) => ship(image, true),
    breakImage: (image) => void model.brokenImages.add(image),
    async stage(image, o = {}) {
      if (!slot) throw new Error('the fake has no deployment slot to stage a build in');
      return model.deployTo(model.mustSlot(slot), image, {
        broken: false,
        author: o.author ?? 'ci',
        deployer: o.deployer ?? 'GitHub Actions',
      });
    },
    failNext(status, times = 1, only) {
      for (let i = 0; i < times; i++) failures.push({ status, only });
    },
    stallNext(times = 1) {
      stalls += times;
    },
    async close() {
      for (const res of stalled) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
