/**
 * A deploy operation linked to an incident goes on the incident's timeline: requested, confirmed,
 * settled, verified or failed. Written by DeployService in the transaction of the transition's audit
 * row (one event per operation and event, by its source key).
 */
import type { AddTimelineEventInput } from '../incidents/ports.ts';
import type { Operation } from '../store/repositories/operations.ts';
import type { JsonObject } from '../store/repositories/rows.ts';
import type { DeployEvent } from './events.ts';

const str = (v: unknown): string => (v === null || v === undefined ? 'unknown' : String(v));

/** What the operation changes, plainly: "revision 2 → 1". */
export function changeText(op: Operation): string {
  const p = op.params;
  switch (op.kind) {
    case 'rollback':
      return `revision ${str(p.fromRevision)} → ${str(p.toRevision)}`;
    case 'restart':
      return `rolling restart of revision ${str(p.fromRevision)}`;
    case 'scale':
      return `replicas ${str(p.fromReplicas)} → ${str(p.toReplicas)}`;
    case 'maintenance':
      return `maintenance ${p.toMaintenance ? 'on' : 'off'}`;
    case 'traffic':
      return `traffic ${(Array.isArray(p.toTraffic) ? p.toTraffic : [])
        .map((t) => {
          const target = t as { revision?: unknown; percent?: unknown };
          return `${str(target.revision)}=${str(target.percent)}%`;
        })
        .join(', ')}`;
    case 'rollout':
      return `gradual roll-out ${str(p.fromRevision)} → ${str(p.toRevision)} in steps ${(Array.isArray(p.steps) ? p.steps : []).join(' → ')} %`;
  }
}

/** "rolled back barq-api to 1": what a succeeded operation did, for the incident headline too. */
export function mitigationText(op: Pick<Operation, 'kind' | 'service' | 'params'>): string {
  const p = op.params;
  switch (op.kind) {
    case 'rollback':
      return `rolled back ${op.service} to ${str(p.toRevision)}`;
    case 'restart':
      return `restarted ${op.service}`;
    case 'scale':
      return `scaled ${op.service} to ${str(p.toReplicas)} replicas`;
    case 'maintenance':
      return `turned maintenance ${p.toMaintenance ? 'on' : 'off'} for ${op.service}`;
    case 'traffic':
      return `shifted traffic of ${op.service}`;
    case 'rollout':
      return `rolled out ${op.service} ${str(p.toRevision)}`;
  }
}

function text(op: Operation, event: DeployEvent, note: string | undefined): string {
  const what = `${op.kind} of ${op.service} (${op.environment}): ${changeText(op)}`;
  switch (event) {
    case 'requested':
      return `Requested a ${what}${op.reason ? `. Why: ${op.reason}` : ''}`;
    case 'started':
      return `Confirmed the ${what}`;
    case 'verifying':
      return `The ${op.kind} of ${op.service} settled on the platform; verifying`;
    case 'succeeded':
      return `Verified: ${mitigationText(op)}${typeof op.result?.imageAfter === 'string' ? ` (${op.result.imageAfter})` : ''}`;
    case 'failed':
      return `The ${what} failed: ${op.error ?? 'unknown error'}`;
    case 'cancelled':
      return `Cancelled the ${what}; nothing was changed`;
    case 'expired':
      return `The ${what} was not ${op.approvalRule ? 'approved' : 'confirmed'} in time; nothing was changed`;
    case 'interrupted':
      return `The ${what} was interrupted: ${op.error ?? 'the bot stopped while it ran'}`;
    case 'awaiting_approval':
      return `Confirmed the ${what}; awaiting approval${note ? ` (${note})` : ''}`;
    case 'approved':
      return `Approved the ${what}${note ? ` (${note})` : ''}`;
    case 'rejected':
      return `Rejected the ${what}${note ? `: ${note}` : ''}; nothing was changed`;
    case 'emergency':
      return `Asked the ${what} as an emergency${note ? `: ${note}` : ''}`;
    case 'blocked':
      return `The ${what} did not start${note ? `: ${note}` : ''}`;
  }
}

/** What every deploy event on an incident's timeline says of its operation. */
function operationData(op: Operation, event: string): JsonObject {
  return {
    event,
    operationId: op.id,
    kind: op.kind,
    service: op.service,
    environment: op.environment,
    fromRevision: op.params.fromRevision ?? null,
    toRevision: op.params.toRevision ?? null,
  };
}

/** The timeline event of an operation's transition (null when it is not linked to an incident). */
export function deployTimelineEvent(
  op: Operation,
  event: DeployEvent,
  actor: string,
  at: Date,
  /** What to add to the line (an approval's count, a rejection's reason), and a key for repeats of the event. */
  more: { note?: string; key?: string } = {},
): AddTimelineEventInput | null {
  if (op.incidentNumber === null) return null;
  const data: JsonObject = {
    ...operationData(op, event),
    toReplicas: op.params.toReplicas ?? null,
    toMaintenance: op.params.toMaintenance ?? null,
    mitigation: event === 'succeeded' ? mitigationText(op) : null,
    failedChecks: Array.isArray(op.result?.failedChecks) ? op.result.failedChecks : [],
  };
  return {
    incidentNumber: op.incidentNumber,
    actor,
    kind: 'deploy_action',
    at,
    text: text(op, event, more.note),
    data,
    sourceKey: `deploy:${op.id}:${event}${more.key ? `:${more.key}` : ''}`,
  };
}

/** What happens to a roll-out's "Promote now" that goes on the incident's timeline. */
export type PromotionTimelineEvent = 'promotion_requested' | 'promotion_approved' | 'promoted';

/**
 * A roll-out's promotion (asked for, approved, done) on the timeline of its incident, written with
 * the run's change and its audit row (null when the operation is linked to no incident).
 */
export function promotionTimelineEvent(
  op: Operation,
  event: PromotionTimelineEvent,
  actor: string,
  at: Date,
  text: string,
): AddTimelineEventInput | null {
  if (op.incidentNumber === null) return null;
  return {
    incidentNumber: op.incidentNumber,
    actor,
    kind: 'deploy_action',
    at,
    text,
    data: operationData(op, event),
    sourceKey: `deploy:${op.id}:${event}:${actor}`,
  };
}
