import { PlatformError } from '../errors.ts';
import type { Container, DeploymentView, JsonRecord } from './resources.ts';

/**
 * Maintenance mode as an environment variable (service.maintenanceEnvVar) on one container of the
 * pod template: set to "true" when on, removed when off. Changing the template rolls the pods, so
 * the application picks it up. The change is a JSON patch guarded by `test` operations, so a
 * template that moved under us fails (422) instead of editing the wrong container or variable.
 */

const TRUTHY = new Set(['true', '1', 'yes', 'on']);

export interface MaintenanceTarget {
  index: number;
  container: Container;
  /** The container's `env` as wire JSON, for the patch's guard. */
  env: unknown;
}

function wireEnv(d: DeploymentView, index: number): unknown {
  const spec = d.template.spec;
  const containers =
    typeof spec === 'object' && spec !== null ? (spec as { containers?: unknown }).containers : undefined;
  const container: unknown = Array.isArray(containers) ? containers[index] : undefined;
  return typeof container === 'object' && container !== null
    ? (container as { env?: unknown }).env
    : undefined;
}

export function maintenanceContainer(d: DeploymentView, name: string | undefined): MaintenanceTarget {
  const index = name === undefined ? 0 : d.containers.findIndex((c) => c.name === name);
  const container = d.containers[index];
  if (index < 0 || !container) {
    throw new PlatformError(
      'not_found',
      `container "${name}" not found in deployment ${d.name}: its containers are ${d.containers.map((c) => c.name).join(', ')}; fix platform.container`,
    );
  }
  return { index, container, env: wireEnv(d, index) };
}

export function isMaintenanceOn(container: Container, variable: string): boolean {
  const entry = container.env?.find((e) => e.name === variable);
  return entry?.value !== undefined && TRUTHY.has(entry.value.trim().toLowerCase());
}

/** JSON patch operations that switch the variable; empty when it already is as wanted. */
export function maintenancePatch(target: MaintenanceTarget, variable: string, on: boolean): JsonRecord[] {
  const { index, container } = target;
  if (isMaintenanceOn(container, variable) === on) return [];
  const base = `/spec/template/spec/containers/${index}`;
  const ops: JsonRecord[] = [{ op: 'test', path: `${base}/name`, value: container.name }];
  const env = container.env ?? [];
  const at = env.findIndex((e) => e.name === variable);
  // The environment must still be the one we read: a patch applied twice (a retry after a lost
  // answer) or racing another change fails the test instead of adding the variable twice.
  if (target.env !== undefined) ops.push({ op: 'test', path: `${base}/env`, value: target.env });
  if (on) {
    const entry = { name: variable, value: 'true' };
    if (target.env === undefined) ops.push({ op: 'add', path: `${base}/env`, value: [entry] });
    else if (at < 0) ops.push({ op: 'add', path: `${base}/env/-`, value: entry });
    else ops.push({ op: 'replace', path: `${base}/env/${at}`, value: entry });
    return ops;
  }
  // The last variable goes with its list, as the API server would leave no empty `env`.
  if (env.length === 1) ops.push({ op: 'remove', path: `${base}/env` });
  else ops.push({ op: 'remove', path: `${base}/env/${at}` });
  return ops;
}
