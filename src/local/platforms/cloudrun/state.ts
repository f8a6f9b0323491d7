import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../../clock.ts';
import { ApiError, enumsToNames, GRPC_CODE, SERVICE_TYPE, withoutDefaults } from './wire.ts';

/**
 * The state of a Cloud Run project/region as the Admin API v2 shows it. Faithful where the adapter
 * depends on it:
 * - an update answers at once with a long-running operation (`done: false`) and the service turns
 *   `reconciling`; a moment later (reconcileMs) the new revision is ready or has failed, the
 *   service's conditions, latest revisions and traffic statuses follow, and the operation completes
 *   with the Service (or, for a failed revision, with a FAILED_PRECONDITION error);
 * - a new revision (`<service>-00042-xyz`) is created only when the template changes: a
 *   traffic-only update creates none; `template.revision` names it explicitly (it must be unused);
 * - a revision whose image is broken never becomes ready (Ready: CONDITION_FAILED, the container
 *   failed to start) and then receives no traffic: LATEST keeps resolving to the latest READY one;
 * - a failed reconciliation (a deploy whose revision never became ready) ends with `reconciling`
 *   false, `terminalCondition` Ready/CONDITION_FAILED with Cloud Run's message, and
 *   `observedGeneration` left at the last serving generation (below `generation`), as service.proto
 *   documents; a later update that succeeds observes its generation again;
 * - `updateMask` limits what an update replaces; without one the whole resource is replaced, so a
 *   template without an image is refused; a stale `etag` is refused with 409 ABORTED.
 */

export type Json = Record<string, unknown>;
const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
const BY_REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';

export interface TrafficSpec {
  type: string;
  revision?: string;
  percent: number;
  tag?: string;
}

interface Condition {
  type: string;
  state: string;
  message?: string;
  lastTransitionTime: string;
  severity?: string;
  reason?: string;
  revisionReason?: string;
}

interface RevisionRecord {
  id: string;
  uid: string;
  createTime: string;
  creator: string;
  /** The template it was made from (without `revision`). */
  spec: Json;
  broken: boolean;
  outcome: 'reconciling' | 'ready' | 'failed';
  transitionTime: string;
}

interface OperationRecord {
  id: string;
  name: string;
  createdRevision: string | undefined;
  done: boolean;
  metadata: Json;
  response?: Json;
  error?: { code: number; message: string };
  finished: Promise<void>;
  finish: () => void;
}

interface ServiceRecord {
  id: string;
  uid: string;
  generation: number;
  observedGeneration: number;
  createTime: string;
  updateTime: string;
  creator: string;
  lastModifier: string;
  /** Mutable top-level fields other than template and traffic (labels, scaling, ingress, …). */
  fields: Json;
  template: Json;
  traffic: TrafficSpec[];
  trafficStatuses: TrafficSpec[];
  reconciling: boolean;
  terminal: Condition;
  routesReady: boolean;
  latestReady: string | undefined;
  latestCreated: string | undefined;
  etag: string;
  revisionCount: number;
  /** Oldest first. */
  revisions: RevisionRecord[];
  pending: OperationRecord[];
}

/** Top-level Service fields an update may set (besides template and traffic). */
const MUTABLE_FIELDS = [
  'description',
  'labels',
  'annotations',
  'client',
  'clientVersion',
  'ingress',
  'launchStage',
  'binaryAuthorization',
  'scaling',
  'invokerIamDisabled',
  'defaultUriDisabled',
  'customAudiences',
  'iapEnabled',
] as const;

const CONTAINER_FAILURE =
  'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable within the allocated timeout. This can happen when the port is misconfigured or if the timeout is too short.';

const trafficInput = z.array(
  z.object({
    type: z.string().optional(),
    revision: z.string().optional(),
    percent: z.number().int().min(0).max(100).optional(),
    tag: z.string().optional(),
  }),
);
const templateInput = z.looseObject({
  revision: z.string().optional(),
  containers: z.array(z.looseObject({ image: z.string().optional() })).optional(),
});

export interface CloudRunStateOptions {
  project: string;
  region: string;
  reconcileMs: number;
  clock?: Clock;
  /** Who API updates are attributed to (the identity of the access token). */
  caller: string;
}

function letters(n: number): string {
  return Array.from({ length: n }, () => String.fromCharCode(97 + randomInt(26))).join('');
}

function etag(): string {
  return `"${randomBytes(9).toString('base64url')}"`;
}

export class CloudRunState {
  readonly project: string;
  readonly region: string;
  #reconcileMs: number;
  readonly #clock: Clock;
  readonly #caller: string;
  readonly #services = new Map<string, ServiceRecord>();
  readonly #operations = new Map<string, OperationRecord>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly brokenImages = new Set<string>();

  constructor(options: CloudRunStateOptions) {
    this.project = options.project;
    this.region = options.region;
    this.#reconcileMs = options.reconcileMs;
    this.#clock = options.clock ?? systemClock;
    this.#caller = options.caller;
  }

  /** How long the next roll-outs take. */
  setReconcileMs(ms: number): void {
    this.#reconcileMs = ms;
  }

  serviceName(id: string): string {
    return `projects/${this.project}/locations/${this.region}/services/${id}`;
  }

  revisionName(service: string, revision: string): string {
    return `${this.serviceName(service)}/revisions/${revision}`;
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  #service(id: string): ServiceRecord {
    const service = this.#services.get(id);
    if (!service) {
      throw new ApiError(
        404,
        `Resource '${id}' of kind 'SERVICE' in region '${this.region}' in project '${this.project}' does not exist.`,
      );
    }
    return service;
  }

  #revision(service: ServiceRecord, id: string): RevisionRecord {
    const revision = service.revisions.find((r) => r.id === id);
    if (!revision) {
      throw new ApiError(
        404,
        `Resource '${id}' of kind 'REVISION' in region '${this.region}' in project '${this.project}' does not exist.`,
      );
    }
    return revision;
  }

  // ---------------------------------------------------------------- reads

  getService(id: string): Json {
    return this.#renderService(this.#service(id));
  }

  getRevision(service: string, revision: string): Json {
    const s = this.#service(service);
    return this.#renderRevision(s, this.#revision(s, revision));
  }

  listRevisions(service: string, pageSize: number, pageToken: string): Json {
    const s = this.#service(service);
    const offset = pageToken ? Number(Buffer.from(pageToken, 'base64url').toString()) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new ApiError(400, 'Invalid page token.');
    const size = pageSize > 0 ? Math.min(pageSize, 1000) : 100;
    const newestFirst = [...s.revisions].reverse();
    const page = newestFirst.slice(offset, offset + size);
    const next =
      offset + size < newestFirst.length ? Buffer.from(String(offset + size)).toString('base64url') : '';
    const out: Json = { revisions: page.map((r) => this.#renderRevision(s, r)) };
    if (next) out.nextPageToken = next;
    return out;
  }

  getOperation(id: string): Json {
    const operation = this.#operations.get(id);
    if (!operation) throw new ApiError(404, `Operation '${id}' not found.`);
    return this.#renderOperation(operation);
  }

  /** Inspection for tests: the service as the API renders it, or undefined. */
  peekService(id: string): Json | undefined {
    const service = this.#services.get(id);
    return service && this.#renderService(service);
  }

  /** Inspection for tests: revisions, newest first, as the API renders them. */
  peekRevisions(id: string): Json[] {
    const service = this.#services.get(id);
    return service ? [...service.revisions].reverse().map((r) => this.#renderRevision(service, r)) : [];
  }

  // ---------------------------------------------------------------- writes

  /** UpdateService: `body` is the Service JSON, `mask` the updateMask paths (none: replace all). */
  update(id: string, input: unknown, mask: string[] | undefined): Json {
    const service = this.#service(id);
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ApiError(400, 'Invalid JSON payload: service must be an object.');
    }
    const body = enumsToNames(input as Json);
    if (typeof body.name === 'string' && body.name !== '' && body.name !== this.serviceName(id)) {
      throw new ApiError(400, `service.name ${body.name} does not match the request URL.`);
    }
    if (typeof body.etag === 'string' && body.etag !== '' && body.etag !== service.etag) {
      throw new ApiError(
        409,
        `Precondition failed: the etag ${body.etag} does not match the current etag of service '${id}'. Read the service again and retry.`,
        'ABORTED',
      );
    }
    const paths = mask ?? ['template', 'traffic', ...MUTABLE_FIELDS];
    const next: { template: Json; traffic: TrafficSpec[]; fields: Json } = {
      template: service.template,
      traffic: service.traffic,
      fields: { ...service.fields },
    };
    for (const path of paths) {
      if (path === 'template') {
        next.template = this.#checkTemplate(service, body.template);
      } else if (path === 'traffic') {
        next.traffic = this.#parseTraffic(body.traffic);
      } else if ((MUTABLE_FIELDS as readonly string[]).includes(path)) {
        if (body[path] === undefined) delete next.fields[path];
        else next.fields[path] = body[path];
      } else {
        throw new ApiError(400, `Invalid update mask path '${path}'.`);
      }
    }
    const operation = this.#apply(service, next, this.#caller);
    return this.#renderOperation(operation);
  }

  /** A CI deploy (`gcloud run deploy --image`): new template image, 100 % to the latest revision. */
  async deploy(
    id: string,
    image: string,
    options: { broken?: boolean; env?: Record<string, string>; creator?: string } = {},
  ): Promise<void> {
    if (options.broken) this.brokenImages.add(image);
    const creator = options.creator ?? `ci-deployer@${this.project}.iam.gserviceaccount.com`;
    let service = this.#services.get(id);
    if (!service) {
      service = this.#create(id, creator);
    }
    const template = structuredClone(service.template);
    const containers = (template.containers as Json[] | undefined) ?? [{ name: id }];
    const first = containers[0] ?? {};
    first.image = image;
    if (options.env) {
      const env = ((first.env as Json[] | undefined) ?? []).filter(
        (e) => !(String(e.name) in (options.env ?? {})),
      );
      for (const [name, value] of Object.entries(options.env)) env.push({ name, value });
      first.env = env;
    }
    containers[0] = first;
    template.containers = containers;
    delete template.revision;
    const operation = this.#apply(
      service,
      { template, traffic: [{ type: LATEST, percent: 100 }], fields: service.fields },
      creator,
    );
    await operation.finished;
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #create(id: string, creator: string): ServiceRecord {
    const now = this.#now();
    const service: ServiceRecord = {
      id,
      uid: randomUUID(),
      generation: 0,
      observedGeneration: 0,
      createTime: now,
      updateTime: now,
      creator,
      lastModifier: creator,
      fields: { ingress: 'INGRESS_TRAFFIC_ALL', launchStage: 'GA' },
      template: {
        scaling: { minInstanceCount: 1, maxInstanceCount: 10 },
        timeout: '300s',
        serviceAccount: `${id}@${this.project}.iam.gserviceaccount.com`,
        maxInstanceRequestConcurrency: 80,
        executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
        containers: [
          {
            name: id,
            ports: [{ name: 'http1', containerPort: 8080 }],
            env: [
              { name: 'LOG_LEVEL', value: 'info' },
              {
                name: 'DATABASE_URL',
                valueSource: { secretKeyRef: { secret: `${id}-database-url`, version: 'latest' } },
              },
            ],
            resources: { limits: { cpu: '1', memory: '512Mi' }, cpuIdle: true, startupCpuBoost: true },
          },
        ],
      },
      traffic: [{ type: LATEST, percent: 100 }],
      trafficStatuses: [],
      reconciling: false,
      terminal: { type: 'Ready', state: 'CONDITION_PENDING', lastTransitionTime: now },
      routesReady: false,
      latestReady: undefined,
      latestCreated: undefined,
      etag: etag(),
      revisionCount: 0,
      revisions: [],
      pending: [],
    };
    this.#services.set(id, service);
    return service;
  }

  #checkTemplate(service: ServiceRecord, raw: unknown): Json {
    if (raw === undefined || raw === null) throw new ApiError(400, 'service.template: Field is required.');
    const parsed = templateInput.safeParse(raw);
    if (!parsed.success)
      throw new ApiError(400, `service.template: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const containers = parsed.data.containers ?? [];
    if (containers.length === 0)
      throw new ApiError(400, 'service.template.containers: at least one container is required.');
    for (const [i, container] of containers.entries()) {
      if (!container.image)
        throw new ApiError(400, `service.template.containers[${i}].image: Field is required.`);
    }
    const name = parsed.data.revision;
    if (name) {
      if (!name.startsWith(`${service.id}-`)) {
        throw new ApiError(
          400,
          `service.template.revision: the revision name must start with '${service.id}-'.`,
        );
      }
      if (service.revisions.some((r) => r.id === name)) {
        throw new ApiError(
          409,
          `Revision named '${name}' with different configuration already exists.`,
          'ALREADY_EXISTS',
        );
      }
    }
    return parsed.data as Json;
  }

  #parseTraffic(raw: unknown): TrafficSpec[] {
    if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) {
      return [{ type: LATEST, percent: 100 }];
    }
    const parsed = trafficInput.safeParse(raw);
    if (!parsed.success)
      throw new ApiError(400, `service.traffic: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const traffic = parsed.data.map((t) => {
      const type = t.type ?? (t.revision ? BY_REVISION : LATEST);
      if (type !== LATEST && type !== BY_REVISION)
        throw new ApiError(400, `service.traffic: unknown type ${type}.`);
      if (type === BY_REVISION && !t.revision)
        throw new ApiError(
          400,
          'service.traffic.revision: required for TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION.',
        );
      const spec: TrafficSpec = { type, percent: t.percent ?? 0 };
      if (type === BY_REVISION && t.revision)
        spec.revision = t.revision.slice(t.revision.lastIndexOf('/') + 1);
      if (t.tag) spec.tag = t.tag;
      return spec;
    });
    const total = traffic.reduce((sum, t) => sum + t.percent, 0);
    if (total !== 100)
      throw new ApiError(400, `service.traffic: the percentages must add up to 100, not ${total}.`);
    return traffic;
  }

  /** Records the new desired state, creates a revision if the template changed, starts reconciling. */
  #apply(
    service: ServiceRecord,
    next: { template: Json; traffic: TrafficSpec[]; fields: Json },
    who: string,
  ) {
    const templateChanged =
      JSON.stringify(withoutDefaults(next.template)) !== JSON.stringify(withoutDefaults(service.template)) ||
      service.revisions.length === 0;
    const explicitName = typeof next.template.revision === 'string' && next.template.revision !== '';
    const willCreate = templateChanged
      ? explicitName
        ? String(next.template.revision)
        : `${service.id}-${String(service.revisionCount + 1).padStart(5, '0')}-${letters(3)}`
      : undefined;
    for (const target of next.traffic) {
      if (target.type !== BY_REVISION || target.revision === willCreate) continue;
      const revision = service.revisions.find((r) => r.id === target.revision);
      if (!revision)
        throw new ApiError(
          400,
          `Revision '${target.revision}' referenced in traffic does not exist.`,
          'INVALID_ARGUMENT',
        );
      if (revision.outcome === 'failed') {
        throw new ApiError(
          400,
          `Revision '${revision.id}' is not ready and cannot serve traffic.`,
          'FAILED_PRECONDITION',
        );
      }
    }

    const now = this.#now();
    service.template = next.template;
    service.traffic = next.traffic;
    service.fields = next.fields;
    service.generation += 1;
    service.updateTime = now;
    service.lastModifier = who;
    service.etag = etag();
    service.reconciling = true;
    service.terminal = { type: 'Ready', state: 'CONDITION_RECONCILING', lastTransitionTime: now };
    if (willCreate) {
      const spec = structuredClone(next.template);
      delete spec.revision;
      delete spec.healthCheckDisabled;
      const image = String((spec.containers as Json[] | undefined)?.[0]?.image ?? '');
      service.revisionCount += 1;
      service.revisions.push({
        id: willCreate,
        uid: randomUUID(),
        createTime: now,
        creator: who,
        spec,
        broken: this.brokenImages.has(image),
        outcome: 'reconciling',
        transitionTime: now,
      });
      service.latestCreated = willCreate;
    }

    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const id = randomUUID();
    const operation: OperationRecord = {
      id,
      name: `projects/${this.project}/locations/${this.region}/operations/${id}`,
      createdRevision: willCreate,
      done: false,
      metadata: { '@type': SERVICE_TYPE, ...this.#renderService(service) },
      finished,
      finish,
    };
    this.#operations.set(id, operation);
    service.pending.push(operation);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#reconcile(service);
    }, this.#reconcileMs);
    this.#timers.add(timer);
    return operation;
  }

  #reconcile(service: ServiceRecord): void {
    const now = this.#now();
    for (const revision of service.revisions) {
      if (revision.outcome !== 'reconciling') continue;
      revision.outcome = revision.broken ? 'failed' : 'ready';
      revision.transitionTime = now;
    }
    const latest = service.revisions.find((r) => r.id === service.latestCreated);
    if (latest?.outcome === 'ready') service.latestReady = latest.id;

    // Traffic moves only when every target can serve; otherwise the previous routing stays.
    const canServe = service.traffic.every((t) =>
      t.type === LATEST
        ? service.latestReady !== undefined
        : service.revisions.some((r) => r.id === t.revision && r.outcome === 'ready'),
    );
    if (canServe) service.trafficStatuses = service.traffic.map((t) => ({ ...t }));
    service.routesReady = canServe;

    const failure =
      latest?.outcome === 'failed'
        ? `Revision '${latest.id}' is not ready and cannot serve traffic. ${CONTAINER_FAILURE}`
        : canServe
          ? undefined
          : 'Traffic could not be routed: a traffic target is not ready.';
    // This reconciliation failed when a revision it created never became ready or its traffic could
    // not be routed. Then, as service.proto documents for `reconciling`, `observedGeneration`,
    // `latestReadyRevision` and `trafficStatuses` keep the state of the last serving generation.
    const failed =
      !canServe ||
      service.pending.some(
        (op) => service.revisions.find((r) => r.id === op.createdRevision)?.outcome === 'failed',
      );
    service.terminal = failure
      ? {
          type: 'Ready',
          state: 'CONDITION_FAILED',
          message: failure,
          reason: 'REVISION_FAILED',
          lastTransitionTime: now,
        }
      : { type: 'Ready', state: 'CONDITION_SUCCEEDED', lastTransitionTime: now };
    if (!failed) service.observedGeneration = service.generation;
    service.reconciling = false;
    service.etag = etag();

    const rendered = { '@type': SERVICE_TYPE, ...this.#renderService(service) };
    for (const operation of service.pending.splice(0)) {
      const created = service.revisions.find((r) => r.id === operation.createdRevision);
      operation.done = true;
      operation.metadata = rendered;
      if (created?.outcome === 'failed') {
        operation.error = {
          code: GRPC_CODE.FAILED_PRECONDITION ?? 9,
          message: `Revision '${created.id}' is not ready and cannot serve traffic. ${CONTAINER_FAILURE}`,
        };
      } else if (!canServe) {
        operation.error = {
          code: GRPC_CODE.FAILED_PRECONDITION ?? 9,
          message: failure ?? 'Traffic could not be routed.',
        };
      } else {
        operation.response = rendered;
      }
      operation.finish();
    }
  }

  // ---------------------------------------------------------------- rendering

  #serving(service: ServiceRecord): Set<string> {
    const ids = new Set<string>();
    for (const t of service.trafficStatuses) {
      if (t.percent <= 0) continue;
      const id = t.type === LATEST ? service.latestReady : t.revision;
      if (id) ids.add(id);
    }
    return ids;
  }

  #renderTraffic(service: ServiceRecord, entries: TrafficSpec[], statuses: boolean): Json[] {
    return entries.map((t) => {
      const out: Json = { type: t.type };
      if (t.revision) out.revision = t.revision;
      if (t.percent) out.percent = t.percent;
      if (t.tag) {
        out.tag = t.tag;
        if (statuses) out.uri = `https://${t.tag}---${service.id}-abc123-${this.region}.a.run.app`;
      }
      return out;
    });
  }

  #renderService(service: ServiceRecord): Json {
    const conditions: Condition[] = [
      {
        type: 'RoutesReady',
        state: service.reconciling
          ? 'CONDITION_RECONCILING'
          : service.routesReady
            ? 'CONDITION_SUCCEEDED'
            : 'CONDITION_FAILED',
        lastTransitionTime: service.updateTime,
      },
      {
        type: 'ConfigurationsReady',
        state: service.reconciling
          ? 'CONDITION_RECONCILING'
          : service.latestCreated === service.latestReady
            ? 'CONDITION_SUCCEEDED'
            : 'CONDITION_FAILED',
        lastTransitionTime: service.updateTime,
      },
    ];
    const out: Json = {
      name: this.serviceName(service.id),
      uid: service.uid,
      generation: String(service.generation),
      createTime: service.createTime,
      updateTime: service.updateTime,
      creator: service.creator,
      lastModifier: service.lastModifier,
      ...structuredClone(service.fields),
      template: structuredClone(service.template),
      traffic: this.#renderTraffic(service, service.traffic, false),
      observedGeneration: String(service.observedGeneration),
      terminalCondition: { ...service.terminal },
      conditions,
      trafficStatuses: this.#renderTraffic(service, service.trafficStatuses, true),
      uri: `https://${service.id}-abc123-${this.region}.a.run.app`,
      reconciling: service.reconciling,
      etag: service.etag,
    };
    if (service.latestReady) out.latestReadyRevision = this.revisionName(service.id, service.latestReady);
    if (service.latestCreated)
      out.latestCreatedRevision = this.revisionName(service.id, service.latestCreated);
    return out;
  }

  #renderRevision(service: ServiceRecord, revision: RevisionRecord): Json {
    const ready: Condition =
      revision.outcome === 'ready'
        ? { type: 'Ready', state: 'CONDITION_SUCCEEDED', lastTransitionTime: revision.transitionTime }
        : revision.outcome === 'failed'
          ? {
              type: 'Ready',
              state: 'CONDITION_FAILED',
              message: CONTAINER_FAILURE,
              severity: 'ERROR',
              revisionReason: 'HEALTH_CHECK_CONTAINER_ERROR',
              lastTransitionTime: revision.transitionTime,
            }
          : { type: 'Ready', state: 'CONDITION_RECONCILING', lastTransitionTime: revision.transitionTime };
    const active: Condition = this.#serving(service).has(revision.id)
      ? { type: 'Active', state: 'CONDITION_SUCCEEDED', lastTransitionTime: revision.transitionTime }
      : {
          type: 'Active',
          state: 'CONDITION_FAILED',
          severity: 'INFO',
          revisionReason: 'RETIRED',
          message: 'Revision retired.',
          lastTransitionTime: revision.transitionTime,
        };
    const spec = structuredClone(revision.spec);
    const scaling = (spec.scaling as Json | undefined) ?? {};
    return {
      name: this.revisionName(service.id, revision.id),
      uid: revision.uid,
      generation: '1',
      createTime: revision.createTime,
      updateTime: revision.transitionTime,
      launchStage: 'GA',
      service: this.serviceName(service.id),
      ...spec,
      reconciling: revision.outcome === 'reconciling',
      conditions: [ready, active],
      observedGeneration: '1',
      logUri: `https://console.cloud.google.com/logs/viewer?project=${this.project}&resource=cloud_run_revision/service_name/${service.id}/revision_name/${revision.id}`,
      scalingStatus: { desiredMinInstanceCount: Number(scaling.minInstanceCount ?? 0) },
      creator: revision.creator,
      etag: `"${revision.uid.slice(0, 12)}"`,
    };
  }

  #renderOperation(operation: OperationRecord): Json {
    const out: Json = { name: operation.name, metadata: operation.metadata, done: operation.done };
    if (operation.error) out.error = { ...operation.error, details: [] };
    if (operation.response) out.response = operation.response;
    return out;
  }
}
