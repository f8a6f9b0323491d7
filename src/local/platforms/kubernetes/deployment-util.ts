import { isJsonObject, type JsonObject } from './json.ts';
import type { Condition, Deployment, DeploymentStatus, ReplicaSet } from './resources.ts';

/** Helpers of the deployment controller, after pkg/controller/deployment/util/deployment_util.go. */

export function templateImages(template: JsonObject): string[] {
  const spec = template.spec;
  const containers = isJsonObject(spec) && Array.isArray(spec.containers) ? spec.containers : [];
  return containers.flatMap((c) => (isJsonObject(c) && typeof c.image === 'string' ? [c.image] : []));
}

export function templateLabels(template: JsonObject): Record<string, string> {
  const metadata = template.metadata;
  const labels = isJsonObject(metadata) && isJsonObject(metadata.labels) ? metadata.labels : {};
  return Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/** intstr.GetScaledValueFromIntOrPercent: "25%" of n, rounded up for surge and down for unavailable. */
function scaled(value: unknown, total: number, roundUp: boolean, fallback: number): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+%$/.test(value)) {
    const exact = (Number.parseInt(value, 10) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return fallback;
}

/** deploymentutil.ResolveFenceposts: maxSurge and maxUnavailable for the desired replicas. */
export function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const strategy = d.spec.strategy;
  if (strategy.type === 'Recreate') return { surge: 0, unavailable: d.spec.replicas };
  const rolling = isJsonObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const total = d.spec.replicas;
  const surge = scaled(rolling.maxSurge, total, true, Math.ceil(total * 0.25));
  let unavailable = scaled(rolling.maxUnavailable, total, false, Math.floor(total * 0.25));
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, total) };
}

export const sum = (sets: ReplicaSet[], pick: (rs: ReplicaSet) => number) =>
  sets.reduce((n, rs) => n + pick(rs), 0);
export const byCreation = (a: ReplicaSet, b: ReplicaSet) =>
  a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) ||
  Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion);

export function getCondition(status: DeploymentStatus, type: string): Condition | undefined {
  return status.conditions.find((c) => c.type === type);
}

/** deploymentutil.DeploymentComplete. */
export function isComplete(d: Deployment, status: DeploymentStatus = d.status): boolean {
  const n = d.spec.replicas;
  return (
    status.updatedReplicas === n &&
    status.replicas === n &&
    status.availableReplicas === n &&
    (status.observedGeneration ?? 0) >= d.metadata.generation
  );
}
