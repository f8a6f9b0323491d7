/**
 * Change Events for executed /deploy operations: when an operation ends succeeded or failed
 * (rollbacks included), the deploy service records this page in the transaction of that transition,
 * so PagerDuty's own responders see the bot's changes next to their alerts.
 */
import type { PagerDutyConfig } from '../config/schema.ts';
import type { Operation } from '../store/repositories/operations.ts';
import { slackArchiveLink } from '../util/slack-links.ts';
import type { PageRequest, PagerDutyChangeEvent, PagerDutyLink } from './pagerduty.ts';

/** The routing key reference change events go to: `changeEvents`, else `routingKey`; none with `false`. */
export function changeRoutingKeyRef(config: PagerDutyConfig): string | null {
  if (config.changeEvents === false) return null;
  return config.changeEvents ?? config.routingKey ?? null;
}

function traffic(value: unknown): string {
  if (!Array.isArray(value)) return '';
  return value
    .map((t) => {
      const target = t as { revision?: unknown; percent?: unknown };
      return `${String(target.revision)}=${String(target.percent)}%`;
    })
    .join(', ');
}

/** "rollback barq-api production to rev-41 by @U123: succeeded". */
export function changeSummary(op: Operation, state: 'succeeded' | 'failed'): string {
  const where = `${op.service} ${op.environment}`;
  const p = op.params;
  let what: string;
  switch (op.kind) {
    case 'rollback':
      what = `rollback ${where}${p.toRevision ? ` to ${String(p.toRevision)}` : ''}`;
      break;
    case 'restart':
      what = `restart ${where}`;
      break;
    case 'scale':
      what = `scale ${where} to ${String(p.toReplicas)} replicas`;
      break;
    case 'maintenance':
      what = `maintenance ${p.toMaintenance === true ? 'on' : 'off'} ${where}`;
      break;
    case 'traffic':
      what = `traffic ${where}: ${traffic(p.toTraffic)}`;
      break;
    case 'rollout':
      what = `roll-out ${where}${p.revision ? ` of ${String(p.revision)}` : ''}`;
      break;
  }
  return `${what} by @${op.requestedBy}: ${state}`;
}

/** The change page of an operation that finished (null when change events go nowhere). */
export function deployChangePage(
  op: Operation,
  state: 'succeeded' | 'failed',
  config: PagerDutyConfig,
  at: Date,
): PageRequest | null {
  const routingKeyRef = changeRoutingKeyRef(config);
  if (!routingKeyRef) return null;
  const links: PagerDutyLink[] = [];
  if (op.noticeChannelId && op.noticeTs) {
    links.push({ href: slackArchiveLink(op.noticeChannelId, op.noticeTs), text: '#deployments thread' });
  }
  const event: Omit<PagerDutyChangeEvent, 'routingKey'> = {
    summary: changeSummary(op, state),
    source: config.source,
    timestamp: at,
    customDetails: {
      operation: op.id,
      kind: op.kind,
      service: op.service,
      environment: op.environment,
      outcome: state,
      requestedBy: op.requestedBy,
      confirmedBy: op.confirmedBy,
      reason: op.reason,
      incident: op.incidentNumber === null ? null : `INC-${op.incidentNumber}`,
      params: op.params,
      ...(op.error ? { error: op.error } : {}),
    },
    ...(links.length > 0 ? { links } : {}),
  };
  return {
    idempotencyKey: `deploy:${op.id}:${state}`,
    // Change events belong to no incident: they never wait for an incident's alerts.
    incidentNumber: null,
    kind: 'change',
    routingKeyRef,
    event,
  };
}
