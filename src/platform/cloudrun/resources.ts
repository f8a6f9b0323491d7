import type { protos } from '@google-cloud/run';
import { z } from 'zod';

/**
 * The parts of Cloud Run v2 answers the adapter relies on, validated with zod. The SDK's REST
 * transport hands back protobuf.js objects (`toObject` with defaults: enums as names, int64 as
 * strings, timestamps as `{seconds, nanos}`, absent messages as null); numbers are accepted for
 * enums too, in case a transport passes them through.
 */

export type IService = protos.google.cloud.run.v2.IService;
export type IRevision = protos.google.cloud.run.v2.IRevision;
export type IRevisionTemplate = protos.google.cloud.run.v2.IRevisionTemplate;
export type ITrafficTarget = protos.google.cloud.run.v2.ITrafficTarget;
export type IContainer = protos.google.cloud.run.v2.IContainer;

const CONDITION_STATES = [
  'STATE_UNSPECIFIED',
  'CONDITION_PENDING',
  'CONDITION_RECONCILING',
  'CONDITION_FAILED',
  'CONDITION_SUCCEEDED',
] as const;
const TRAFFIC_TYPES = [
  'TRAFFIC_TARGET_ALLOCATION_TYPE_UNSPECIFIED',
  'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST',
  'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION',
] as const;

/** An enum as the SDK renders it (name) or as a number, normalised to its name. */
function enumSchema(names: readonly string[]) {
  return z
    .union([z.string(), z.number().int()])
    .nullish()
    .transform((v) => (typeof v === 'number' ? (names[v] ?? String(v)) : (v ?? undefined)));
}

const text = z
  .string()
  .nullish()
  .transform((v) => (v ? v : undefined));
const int64 = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined || v === '' ? 0 : Number(v)));
const int32 = z
  .number()
  .int()
  .nullish()
  .transform((v) => v ?? 0);

const timestamp = z
  .union([z.object({ seconds: z.union([z.string(), z.number()]), nanos: z.number().nullish() }), z.string()])
  .nullish()
  .transform((t): Date | undefined => {
    if (t === null || t === undefined) return undefined;
    if (typeof t === 'string') return new Date(t);
    return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
  });

const conditionSchema = z.object({
  type: text,
  state: enumSchema(CONDITION_STATES),
  message: text,
  reason: enumSchema([]),
  revisionReason: enumSchema([]),
  lastTransitionTime: timestamp,
});
export type ConditionView = z.output<typeof conditionSchema>;

const trafficSchema = z.object({
  type: enumSchema(TRAFFIC_TYPES),
  revision: text,
  percent: int32,
  tag: text,
});

const envVarSchema = z.object({ name: text, value: z.string().nullish() });
const containerSchema = z.object({
  image: text,
  env: z
    .array(envVarSchema)
    .nullish()
    .transform((v) => v ?? []),
});
const scalingSchema = z
  .object({ minInstanceCount: int32, maxInstanceCount: int32 })
  .nullish()
  .transform((s) => ({ min: s?.minInstanceCount ?? 0, max: s?.maxInstanceCount || undefined }));

const serviceSchema = z.object({
  name: z.string().min(1),
  generation: int64,
  observedGeneration: int64,
  reconciling: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  etag: text,
  terminalCondition: conditionSchema.nullish().transform((c) => c ?? undefined),
  latestReadyRevision: text,
  latestCreatedRevision: text,
  traffic: z
    .array(trafficSchema)
    .nullish()
    .transform((v) => v ?? []),
  trafficStatuses: z
    .array(trafficSchema)
    .nullish()
    .transform((v) => v ?? []),
  template: z.object({ containers: z.array(containerSchema).min(1) }),
});

const revisionSchema = z.object({
  name: z.string().min(1),
  createTime: timestamp,
  creator: text,
  reconciling: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  conditions: z
    .array(conditionSchema)
    .nullish()
    .transform((v) => v ?? []),
  containers: z.array(containerSchema).nullish(),
  scaling: scalingSchema,
});

export interface TrafficEntry {
  latest: boolean;
  /** Short revision id; for a `latest` entry, the revision it resolves to when known. */
  revision: string | undefined;
  percent: number;
  tag: string | undefined;
}

export interface ServiceView {
  name: string;
  generation: number;
  observedGeneration: number;
  reconciling: boolean;
  etag: string | undefined;
  terminal: ConditionView | undefined;
  latestReadyRevision: string | undefined;
  latestCreatedRevision: string | undefined;
  /** Desired split (`service.traffic`). */
  traffic: TrafficEntry[];
  /** Observed split (`service.trafficStatuses`), `latest` resolved to the latest ready revision. */
  serving: TrafficEntry[];
  /** The full answer, for read-modify-write. */
  raw: IService;
}

export interface RevisionView {
  id: string;
  name: string;
  image: string | undefined;
  env: Map<string, string | undefined>;
  createdAt: Date | undefined;
  creator: string | undefined;
  reconciling: boolean;
  ready: ConditionView | undefined;
  scaling: { min: number; max: number | undefined };
  raw: IRevision;
}

/** The last segment of a resource name (`projects/p/.../revisions/x` → `x`). */
export function shortName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** Thrown when Cloud Run answers with something the adapter cannot rely on. */
export class UnexpectedAnswerError extends Error {
  override name = 'UnexpectedAnswerError';
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new UnexpectedAnswerError(
      `unexpected ${what} from Cloud Run: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return result.data;
}

function trafficEntries(
  entries: z.output<typeof trafficSchema>[],
  latestReady: string | undefined,
): TrafficEntry[] {
  return entries.map((t) => {
    const latest = t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
    const revision = t.revision ? shortName(t.revision) : latest ? latestReady : undefined;
    return { latest, revision, percent: t.percent, tag: t.tag };
  });
}

export function parseService(raw: IService): ServiceView {
  const s = parse(serviceSchema, raw, 'service');
  const latestReady = s.latestReadyRevision ? shortName(s.latestReadyRevision) : undefined;
  return {
    name: s.name,
    generation: s.generation,
    observedGeneration: s.observedGeneration,
    reconciling: s.reconciling,
    etag: s.etag,
    terminal: s.terminalCondition,
    latestReadyRevision: latestReady,
    latestCreatedRevision: s.latestCreatedRevision ? shortName(s.latestCreatedRevision) : undefined,
    traffic: trafficEntries(s.traffic, latestReady),
    serving: trafficEntries(s.trafficStatuses, latestReady),
    raw,
  };
}

export function parseRevision(raw: IRevision): RevisionView {
  const r = parse(revisionSchema, raw, 'revision');
  const container = r.containers?.[0];
  return {
    id: shortName(r.name),
    name: r.name,
    image: container?.image,
    env: new Map(container?.env.filter((e) => e.name).map((e) => [e.name ?? '', e.value ?? undefined]) ?? []),
    createdAt: r.createTime,
    creator: r.creator,
    reconciling: r.reconciling,
    ready: r.conditions.find((c) => c.type === 'Ready'),
    scaling: r.scaling,
    raw,
  };
}

/** The revision names a finished update reports (the long-running operation's Service). */
export function parseOperationResult(raw: unknown): { latestCreatedRevision: string | undefined } {
  const r = parse(z.object({ latestCreatedRevision: text }), raw, 'operation result');
  return { latestCreatedRevision: r.latestCreatedRevision ? shortName(r.latestCreatedRevision) : undefined };
}

export function isSucceeded(condition: ConditionView | undefined): boolean {
  return condition?.state === 'CONDITION_SUCCEEDED';
}

export function isFailed(condition: ConditionView | undefined): boolean {
  return condition?.state === 'CONDITION_FAILED';
}

/** A condition in Cloud Run's own words: message, else reason, else state. */
export function describeCondition(condition: ConditionView | undefined): string | undefined {
  if (!condition) return undefined;
  const reason = [condition.revisionReason, condition.reason].find((r) => r && !r.endsWith('_UNDEFINED'));
  return condition.message ?? reason ?? condition.state;
}
