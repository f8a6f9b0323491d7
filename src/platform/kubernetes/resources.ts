import { z } from 'zod';
import { PlatformError } from '../errors.ts';

/**
 * The parts of apps/v1 answers the adapter relies on, checked with zod. The SDK hands back its typed
 * models (class instances, timestamps as Date); the pod template is also kept as wire JSON, because a
 * rollback copies it verbatim, as kubectl does. (The models' property names are the JSON names for
 * everything in a pod template, so a JSON round trip gives the wire form back.)
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const stringMap = z.record(z.string(), z.string());

const envVarSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.unknown().optional(),
});

const containerSchema = z.object({
  name: z.string(),
  image: z.string().optional(),
  env: z.array(envVarSchema).optional(),
});

const templateSchema = z.object({
  metadata: z.object({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
  spec: z.object({ containers: z.array(containerSchema).min(1) }),
});

const selectorSchema = z.object({
  matchLabels: stringMap.optional(),
  matchExpressions: z
    .array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() }))
    .optional(),
});

const count = z.number().int().nonnegative().optional();

const deploymentSchema = z.object({
  metadata: z.object({
    name: z.string(),
    uid: z.string(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    annotations: stringMap.optional(),
  }),
  spec: z.object({
    replicas: count,
    paused: z.boolean().optional(),
    selector: selectorSchema,
    template: templateSchema,
  }),
  status: z
    .object({
      observedGeneration: z.number().int().optional(),
      replicas: count,
      updatedReplicas: count,
      readyReplicas: count,
      availableReplicas: count,
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

const replicaSetSchema = z.object({
  metadata: z.object({
    name: z.string(),
    creationTimestamp: z.date().optional(),
    annotations: stringMap.optional(),
    ownerReferences: z
      .array(z.object({ uid: z.string(), controller: z.boolean().optional(), kind: z.string() }))
      .optional(),
  }),
  spec: z.object({ template: templateSchema }),
});

const scaleSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().optional() }),
  spec: z.object({ replicas: count }).optional(),
});

export type Container = z.output<typeof containerSchema>;
export type LabelSelector = z.output<typeof selectorSchema>;
export type JsonRecord = Record<string, unknown>;

export interface Condition {
  type: string;
  status: string;
  reason: string | undefined;
  message: string | undefined;
}

export interface DeploymentView {
  name: string;
  uid: string;
  generation: number;
  annotations: Record<string, string>;
  /** The controller's current revision number (deployment.kubernetes.io/revision). */
  revision: string | undefined;
  replicas: number;
  paused: boolean;
  selector: LabelSelector;
  containers: Container[];
  templateAnnotations: Record<string, string>;
  /** spec.template as wire JSON. */
  template: JsonRecord;
  status: {
    observedGeneration: number;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    conditions: Condition[];
  };
}

export interface ReplicaSetView {
  name: string;
  revision: number | undefined;
  annotations: Record<string, string>;
  createdAt: Date | undefined;
  controllerUid: string | undefined;
  containers: Container[];
  /** spec.template as wire JSON. */
  template: JsonRecord;
}

export interface ScaleView {
  resourceVersion: string | undefined;
  replicas: number;
}

function unexpected(what: string, error: z.ZodError): PlatformError {
  const issue = error.issues[0];
  const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : error.message;
  return new PlatformError('invalid', `the Kubernetes API answered with an unexpected ${what} (${where})`);
}

/** The SDK model's wire JSON (Dates become RFC 3339 strings). */
export function toWire(model: unknown): JsonRecord {
  const json: unknown = JSON.parse(JSON.stringify(model ?? {}));
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as JsonRecord) : {};
}

export function parseDeployment(model: unknown): DeploymentView {
  const parsed = deploymentSchema.safeParse(model);
  if (!parsed.success) throw unexpected('Deployment', parsed.error);
  const { metadata, spec, status } = parsed.data;
  const annotations = metadata.annotations ?? {};
  return {
    name: metadata.name,
    uid: metadata.uid,
    generation: metadata.generation ?? 0,
    annotations,
    revision: annotations[REVISION_ANNOTATION],
    // apps/v1 defaults spec.replicas to 1.
    replicas: spec.replicas ?? 1,
    paused: spec.paused === true,
    selector: spec.selector,
    containers: spec.template.spec.containers,
    templateAnnotations: spec.template.metadata?.annotations ?? {},
    template: toWire((model as { spec?: { template?: unknown } }).spec?.template),
    status: {
      // Zero counts are left out of the JSON (omitempty).
      observedGeneration: status?.observedGeneration ?? 0,
      replicas: status?.replicas ?? 0,
      updatedReplicas: status?.updatedReplicas ?? 0,
      readyReplicas: status?.readyReplicas ?? 0,
      availableReplicas: status?.availableReplicas ?? 0,
      conditions: (status?.conditions ?? []).map((c) => ({
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
      })),
    },
  };
}

export function parseReplicaSet(model: unknown): ReplicaSetView {
  const parsed = replicaSetSchema.safeParse(model);
  if (!parsed.success) throw unexpected('ReplicaSet', parsed.error);
  const { metadata, spec } = parsed.data;
  const annotations = metadata.annotations ?? {};
  const raw = annotations[REVISION_ANNOTATION];
  const revision = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return {
    name: metadata.name,
    revision,
    annotations,
    createdAt: metadata.creationTimestamp,
    controllerUid: metadata.ownerReferences?.find((o) => o.controller === true)?.uid,
    containers: spec.template.spec.containers,
    template: toWire((model as { spec?: { template?: unknown } }).spec?.template),
  };
}

export function parseReplicaSetList(model: unknown): ReplicaSetView[] {
  const parsed = z.object({ items: z.array(z.unknown()) }).safeParse(model);
  if (!parsed.success) throw unexpected('ReplicaSetList', parsed.error);
  return parsed.data.items.map(parseReplicaSet);
}

export function parseScale(model: unknown): ScaleView {
  const parsed = scaleSchema.safeParse(model);
  if (!parsed.success) throw unexpected('Scale', parsed.error);
  return { resourceVersion: parsed.data.metadata.resourceVersion, replicas: parsed.data.spec?.replicas ?? 0 };
}

/** metav1.LabelSelectorAsSelector(...).String(): the `labelSelector` query for a spec.selector. */
export function selectorQuery(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else
      throw new PlatformError('invalid', `unsupported label selector operator ${e.operator} on key ${e.key}`);
  }
  return parts.join(',');
}
