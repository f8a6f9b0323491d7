/**
 * What every transition of a /deploy operation writes with it, in the transition's transaction: its
 * audit row; linked to an incident, its timeline event (and, for the first success, the incident's
 * mitigation time); executed, a PagerDuty Change Event in the outbox. The deploy service and the
 * roll-outs both move operations; both record through here.
 */
import type { RunbookConfig } from '../config/schema.ts';
import { deployChangePage } from '../pagerduty/change-events.ts';
import type { AuditOutcome } from '../store/repositories/audit.ts';
import type { Repositories } from '../store/repositories/index.ts';
import type { Operation, OperationState } from '../store/repositories/operations.ts';
import type { JsonObject } from '../store/repositories/rows.ts';
import type { DeployEvent } from './events.ts';
import { deployTimelineEvent } from './incident-timeline.ts';

export const AUDIT_OUTCOME: Record<DeployEvent, AuditOutcome> = {
  requested: 'requested',
  started: 'started',
  verifying: 'verifying',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  expired: 'expired',
  interrupted: 'interrupted',
  awaiting_approval: 'awaiting_approval',
  approved: 'approved',
  rejected: 'rejected',
  emergency: 'requested',
  blocked: 'denied',
};

export interface Transition {
  /** Before the transition. */
  op: Operation;
  /** After it. */
  moved: Operation;
  to: OperationState;
  event: DeployEvent;
  actor: string;
  at: Date;
  details?: JsonObject;
  /** For the timeline: a note appended to its text, and a key distinguishing two events of one kind. */
  note?: string;
  key?: string;
}

export async function recordTransition(
  repos: Repositories,
  config: RunbookConfig,
  t: Transition,
): Promise<void> {
  const { op, moved, event, actor, at } = t;
  await repos.audit.append({
    at,
    actor,
    action: `deploy.${op.kind}`,
    outcome: AUDIT_OUTCOME[event],
    service: op.service,
    environment: op.environment,
    incidentNumber: op.incidentNumber,
    operationId: op.id,
    details: {
      from: op.state,
      to: t.to,
      requestedBy: moved.requestedBy,
      confirmedBy: moved.confirmedBy,
      reason: moved.reason,
      params: moved.params,
      ...t.details,
    },
  });
  const onTimeline = deployTimelineEvent(moved, event, actor, at, {
    ...(t.note !== undefined ? { note: t.note } : {}),
    ...(t.key !== undefined ? { key: t.key } : {}),
  });
  if (onTimeline) await repos.timeline.add(onTimeline);
  // The first successful operation linked to an incident is when it was mitigated.
  if (event === 'succeeded' && moved.incidentNumber !== null) {
    await repos.incidents.markMitigated(moved.incidentNumber, at);
  }
  // Executed (succeeded or failed): a PagerDuty Change Event, sent later from the outbox.
  if (event === 'succeeded' || event === 'failed') {
    const change = deployChangePage(moved, event, config.pagerduty, moved.finishedAt ?? at);
    if (change) await repos.pagerduty.enqueue(change);
  }
}
