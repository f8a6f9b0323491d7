/**
 * What an operation will change, read from the platform before the card is posted: the card says
 * exactly from → to, and the run (and a resume after a crash) knows what "done" looks like.
 */
import type { ServiceConfig } from '../config/schema.ts';
import type { Platform, PlatformStatus, Revision, TrafficTarget } from '../platform/platform.ts';
import type { Operation, OperationKind } from '../store/repositories/operations.ts';
import type { JsonObject } from '../store/repositories/rows.ts';
import { planRollout } from './rollout-plan.ts';

export type DeployRequest =
  | { kind: 'rollback'; toRevision?: string }
  | { kind: 'restart' }
  | { kind: 'scale'; replicas: number }
  | { kind: 'maintenance'; on: boolean }
  | { kind: 'traffic'; targets: TrafficTarget[] }
  | { kind: 'rollout'; toRevision: string; steps?: number[]; intervalMs?: number };

/** A request that cannot be planned (no such revision, outside the bounds): said as is to the user. */
export class PlanError extends Error {
  override name = 'PlanError';
}

/** Revisions an earlier operation showed to be no good to roll back to: maintenance toggles and failures. */
export function badRevisions(operations: readonly Operation[]): Map<string, string> {
  const bad = new Map<string, string>();
  for (const op of operations) {
    const after = typeof op.result?.revisionAfter === 'string' ? op.result.revisionAfter : undefined;
    if (op.kind === 'maintenance' && after && op.state === 'succeeded') {
      bad.set(after, 'a maintenance toggle');
    }
    if (op.state === 'failed') {
      if (after) bad.set(after, `the outcome of a failed ${op.kind}`);
      const to = op.params.toRevision;
      if (op.kind === 'rollback' && typeof to === 'string') bad.set(to, 'the target of a failed rollback');
      const rollout = op.result?.rollout as { state?: unknown } | undefined;
      if (op.kind === 'rollout' && typeof to === 'string' && rollout?.state === 'rolled_back') {
        bad.set(to, 'the target of a roll-out that rolled back');
      }
    }
  }
  return bad;
}

/** The newest revision before the current one that is neither a maintenance toggle nor a failure. */
export function previousGood(
  history: readonly Revision[],
  bad: ReadonlyMap<string, string>,
): { revision: Revision; why: string } | undefined {
  const currentIndex = history.findIndex((r) => r.current);
  const older = currentIndex >= 0 ? history.slice(currentIndex + 1) : history.slice(1);
  const skipped: string[] = [];
  for (const revision of older) {
    const reason =
      bad.get(revision.id) ??
      (/maintenance/i.test(revision.cause ?? '') ? 'a maintenance toggle' : undefined);
    if (reason) {
      skipped.push(`${revision.id} (${reason})`);
      continue;
    }
    const why =
      skipped.length === 0
        ? 'the newest revision before the current one'
        : `the newest good revision before the current one; skipped ${skipped.join(', ')}`;
    return { revision, why };
  }
  return undefined;
}

const trafficJson = (targets: readonly TrafficTarget[] | undefined): JsonObject[] =>
  (targets ?? []).map((t) => ({ revision: t.revision, percent: t.percent }));

/** The operation's params: what it changes, from → to, and the platform target. */
export async function planOperation(
  service: ServiceConfig,
  platform: Platform,
  request: DeployRequest,
  earlier: readonly Operation[],
  /** The default roll-out analysis (deploy.rollbackErrorRate, deploy.rollbackAfter). */
  policy?: { rollbackErrorRate: number; rollbackAfter: number },
): Promise<JsonObject> {
  const status = await platform.status();
  const common: JsonObject = {
    target: status.target,
    platform: status.kind,
    fromRevision: status.revision ?? null,
    fromImage: status.image ?? null,
  };
  switch (request.kind) {
    case 'rollback': {
      const history = await platform.history(20);
      let chosen: Revision | undefined;
      let why: string;
      if (request.toRevision !== undefined) {
        chosen = history.find((r) => r.id === request.toRevision);
        if (!chosen) {
          const ids = history.map((r) => r.id).join(', ') || 'none';
          throw new PlanError(
            `${service.name} has no revision "${request.toRevision}": its revisions are ${ids}.`,
          );
        }
        if (chosen.current) throw new PlanError(`${service.name} already runs revision ${chosen.id}.`);
        why = 'the revision asked for';
      } else {
        const found = previousGood(history, badRevisions(earlier));
        if (!found) throw new PlanError(`${service.name} has no earlier good revision to roll back to.`);
        chosen = found.revision;
        why = found.why;
      }
      return { ...common, toRevision: chosen.id, toImage: chosen.image ?? null, why };
    }
    case 'restart':
      return common;
    case 'scale': {
      const { min, max } = service.scaling;
      if (!Number.isInteger(request.replicas) || request.replicas < min || request.replicas > max) {
        throw new PlanError(
          `${service.name} (${service.environment}) may run ${min} to ${max} replicas (services[].scaling); ${request.replicas} is outside that.`,
        );
      }
      if (status.replicas.desired === request.replicas) {
        throw new PlanError(`${service.name} already runs ${request.replicas} replicas: nothing to change.`);
      }
      return { ...common, fromReplicas: status.replicas.desired ?? null, toReplicas: request.replicas };
    }
    case 'maintenance':
      if (status.maintenance === request.on) {
        throw new PlanError(`Maintenance mode is already ${request.on ? 'on' : 'off'} for ${service.name}.`);
      }
      return { ...common, fromMaintenance: status.maintenance, toMaintenance: request.on };
    case 'traffic':
      return { ...common, fromTraffic: trafficJson(status.traffic), toTraffic: trafficJson(request.targets) };
    case 'rollout':
      return { ...common, ...(await planRollout(service, platform, request, status, policy)) };
  }
}

/** True when the platform already shows what the operation set out to do (after a conflict, a crash). */
export function showsTarget(
  kind: OperationKind,
  params: JsonObject,
  status: PlatformStatus,
): boolean | undefined {
  switch (kind) {
    case 'rollback':
      if (typeof params.toImage === 'string' && status.image !== undefined)
        return status.image === params.toImage;
      return status.revision === params.toRevision;
    case 'scale':
      return status.replicas.desired === params.toReplicas;
    case 'maintenance':
      return status.maintenance === params.toMaintenance;
    case 'traffic': {
      const want = Array.isArray(params.toTraffic) ? params.toTraffic : [];
      const have = trafficJson(status.traffic);
      const key = (list: readonly unknown[]) =>
        JSON.stringify(
          (list as JsonObject[]).map((t) => `${String(t.revision)}=${String(t.percent)}`).sort(),
        );
      return key(want) === key(have);
    }
    case 'restart':
    case 'rollout':
      // Nothing on the platform says a restart happened: it cannot be told from the state. A
      // roll-out is never resumed by the run sweep (its timers drive it).
      return undefined;
  }
}
