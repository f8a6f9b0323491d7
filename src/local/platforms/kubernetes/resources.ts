import { cloneJson, type JsonObject } from './json.ts';

/**
 * The fake's stored objects: apps/v1 Deployment and ReplicaSet with the fields the API server and the
 * deployment controller work with. Pod templates stay plain JSON, copied verbatim as the server does.
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const DEPRECATED_ROLLBACK_TO = 'deprecated.deployment.rollback.to';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Deployment annotations the controller never copies onto its ReplicaSets (deployment_util.go). */
export const ANNOTATIONS_NOT_COPIED = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO,
]);

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export interface DeploymentSpec {
  replicas: number;
  selector: LabelSelector;
  template: JsonObject;
  strategy: JsonObject;
  revisionHistoryLimit: number;
  progressDeadlineSeconds: number;
  minReadySeconds?: number;
  paused?: boolean;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions: Condition[];
  collisionCount?: number;
}

export interface Deployment {
  metadata: ObjectMeta;
  spec: DeploymentSpec;
  status: DeploymentStatus;
}

export interface ReplicaSet {
  metadata: ObjectMeta;
  spec: { replicas: number; selector: LabelSelector; template: JsonObject; minReadySeconds?: number };
  status: { replicas: number; readyReplicas: number; availableReplicas: number; observedGeneration: number };
}

/** Go's `omitempty` on integer fields: zero is left out of the JSON. */
function nonZero(fields: Record<string, number | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== 0) out[k] = v;
  return out;
}

function metaToWire(meta: ObjectMeta): JsonObject {
  return cloneJson(meta) as unknown as JsonObject;
}

export function deploymentToWire(d: Deployment): JsonObject {
  const s = d.status;
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: metaToWire(d.metadata),
    spec: cloneJson(d.spec) as unknown as JsonObject,
    status: {
      ...nonZero({
        observedGeneration: s.observedGeneration,
        replicas: s.replicas,
        updatedReplicas: s.updatedReplicas,
        readyReplicas: s.readyReplicas,
        availableReplicas: s.availableReplicas,
        unavailableReplicas: s.unavailableReplicas,
        collisionCount: s.collisionCount,
      }),
      ...(s.conditions.length > 0 ? { conditions: cloneJson(s.conditions) as unknown as JsonObject[] } : {}),
    },
  };
}

export function replicaSetToWire(rs: ReplicaSet): JsonObject {
  return {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: metaToWire(rs.metadata),
    spec: cloneJson(rs.spec) as unknown as JsonObject,
    status: {
      // `replicas` has no omitempty in ReplicaSetStatus; the others do.
      replicas: rs.status.replicas,
      ...nonZero({
        fullyLabeledReplicas: rs.status.replicas,
        readyReplicas: rs.status.readyReplicas,
        availableReplicas: rs.status.availableReplicas,
        observedGeneration: rs.status.observedGeneration,
      }),
    },
  };
}

/** The autoscaling/v1 Scale the `deployments/scale` subresource speaks. */
export function scaleToWire(d: Deployment, selector: string): JsonObject {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: d.metadata.name,
      namespace: d.metadata.namespace,
      uid: d.metadata.uid,
      resourceVersion: d.metadata.resourceVersion,
      creationTimestamp: d.metadata.creationTimestamp,
    },
    spec: { replicas: d.spec.replicas },
    status: { replicas: d.status.replicas, selector },
  };
}

export function revisionOf(meta: ObjectMeta): number {
  const raw = meta.annotations?.[REVISION_ANNOTATION];
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export function isControlledBy(rs: ReplicaSet, d: Deployment): boolean {
  return (rs.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.uid === d.metadata.uid);
}
