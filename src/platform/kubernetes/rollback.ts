import { PlatformError } from '../errors.ts';
import {
  type DeploymentView,
  type JsonRecord,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  type ReplicaSetView,
} from './resources.ts';

/**
 * `kubectl rollout undo` for a Deployment: kubectl's DeploymentRollbacker
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollback.go). The target is the ReplicaSet of the given
 * revision, or of the second-highest revision; its pod template (minus the pod-template-hash label)
 * replaces the Deployment's with a JSON patch that also sets the Deployment's annotations to the
 * ReplicaSet's (except the controller's own bookkeeping ones, which stay as the Deployment has them).
 */

/** Annotations a rollback neither copies from the ReplicaSet nor drops from the Deployment. */
export const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** deploymentutil.GetAllReplicaSets: the ReplicaSets this Deployment controls. */
export function ownedBy(d: DeploymentView, sets: ReplicaSetView[]): ReplicaSetView[] {
  return sets.filter((rs) => rs.controllerUid === d.uid);
}

function revisionList(sets: ReplicaSetView[]): string {
  const numbers = sets
    .flatMap((rs) => (rs.revision === undefined ? [] : [rs.revision]))
    .sort((a, b) => a - b);
  return numbers.length > 0 ? numbers.join(', ') : 'none';
}

/** deploymentRevision: the ReplicaSet of `toRevision`, or of the previous revision when unset. */
export function targetReplicaSet(
  d: DeploymentView,
  owned: ReplicaSetView[],
  toRevision?: string,
): ReplicaSetView {
  if (toRevision !== undefined) {
    const wanted = /^\d+$/.test(toRevision.trim()) ? Number(toRevision.trim()) : undefined;
    const found = owned.find((rs) => wanted !== undefined && wanted > 0 && rs.revision === wanted);
    if (!found) {
      throw new PlatformError(
        'not_found',
        `revision "${toRevision}" not found in the history of deployment ${d.name}: its revisions are ${revisionList(owned)}`,
      );
    }
    return found;
  }
  const ordered = owned
    .filter((rs): rs is ReplicaSetView & { revision: number } => rs.revision !== undefined)
    .sort((a, b) => b.revision - a.revision);
  const previous = ordered[1];
  if (!previous) {
    throw new PlatformError(
      'not_found',
      `no rollout history to roll back to for deployment ${d.name}: its revisions are ${revisionList(owned)}`,
    );
  }
  return previous;
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The template without the pod-template-hash label the controller put on the ReplicaSet's copy. */
export function withoutHashLabel(template: JsonRecord): JsonRecord {
  const copy = JSON.parse(JSON.stringify(template)) as JsonRecord;
  const metadata = copy.metadata;
  if (isRecord(metadata) && isRecord(metadata.labels)) {
    delete metadata.labels[POD_TEMPLATE_HASH_LABEL];
  }
  return copy;
}

/** JSON with sorted keys and without empty values, so equality is Kubernetes' semantic equality. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => [k, canonical(value[k])] as const)
      .filter(([, v]) => v !== 'null' && v !== '[]' && v !== '{}');
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** equalIgnoreHash: the same pod template once the pod-template-hash label is ignored. */
export function equalIgnoreHash(a: JsonRecord, b: JsonRecord): boolean {
  return canonical(withoutHashLabel(a)) === canonical(withoutHashLabel(b));
}

/** The Deployment annotations after the rollback. */
export function rollbackAnnotations(d: DeploymentView, rs: ReplicaSetView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ANNOTATIONS_TO_SKIP) {
    const value = d.annotations[key];
    if (value !== undefined) out[key] = value;
  }
  for (const [key, value] of Object.entries(rs.annotations)) {
    if (!ANNOTATIONS_TO_SKIP.has(key)) out[key] = value;
  }
  return out;
}

/** getDeploymentPatch: replace spec.template and metadata.annotations (application/json-patch+json). */
export function rollbackPatch(d: DeploymentView, rs: ReplicaSetView): JsonRecord[] {
  return [
    { op: 'replace', path: '/spec/template', value: withoutHashLabel(rs.template) },
    { op: 'replace', path: '/metadata/annotations', value: rollbackAnnotations(d, rs) },
  ];
}
