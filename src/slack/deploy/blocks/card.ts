/** The confirmation card of a /deploy operation, updated in place through its states. */
import type { KnownBlock } from '@slack/types';
import { differenceInSeconds } from 'date-fns/differenceInSeconds';
import type { Operation } from '../../../store/repositories/operations.ts';
import { escapeMrkdwn } from '../../kit/escape.ts';

export const CONFIRM_DEPLOY_ACTION = 'deploy_confirm';
export const CANCEL_DEPLOY_ACTION = 'deploy_cancel';
export const ROLLBACK_FURTHER_ACTION = 'deploy_rollback_further';
export const ROLLBACK_TO_ACTION = 'deploy_rollback_to';
export const DECLARE_FROM_DEPLOY_ACTION = 'deploy_declare_incident';

/** What the "Declare incident" button carries: enough to open the declare modal at once. */
export interface DeclareFromDeploy {
  /** Service, environment. */
  s: string;
  e: string;
  /** "rollback to 1", "restart". */
  w: string;
  /** The failed checks. */
  c: string[];
}

/** A button value is at most 2,000 characters: the failed checks are cut to fit. */
export function declareValue(op: Operation, failedChecks: readonly string[]): string {
  const what =
    op.kind === 'rollback' && typeof op.params.toRevision === 'string'
      ? `rollback to ${op.params.toRevision}`
      : op.kind === 'rollout' && typeof op.params.toRevision === 'string'
        ? `roll-out of ${op.params.toRevision}`
        : op.kind;
  const value: DeclareFromDeploy = { s: op.service, e: op.environment, w: what, c: [] };
  for (const check of failedChecks) {
    const next = JSON.stringify({ ...value, c: [...value.c, check.slice(0, 300)] });
    if (next.length > 1_900) break;
    value.c.push(check.slice(0, 300));
  }
  return JSON.stringify(value);
}

const STATE_LABEL: Record<string, string> = {
  requested: ':hourglass_flowing_sand: waiting for confirmation',
  awaiting_approval: ':hourglass_flowing_sand: awaiting approval',
  approved: ':white_check_mark: approved',
  running: ':arrows_counterclockwise: running',
  verifying: ':mag: verifying',
  succeeded: ':white_check_mark: succeeded',
  failed: ':x: failed',
  cancelled: ':no_entry_sign: cancelled',
  rejected: ':no_entry_sign: rejected',
  expired: ':alarm_clock: expired',
  interrupted: ':warning: interrupted',
};

const str = (v: unknown): string => (v === null || v === undefined ? 'unknown' : String(v));
const e = (v: unknown): string => escapeMrkdwn(str(v));

function traffic(list: unknown): string {
  if (!Array.isArray(list) || list.length === 0) return 'none';
  return list
    .map((t) => {
      const item = t as { revision?: unknown; percent?: unknown };
      return `${str(item.revision)} ${str(item.percent)}%`;
    })
    .join(', ');
}

/** Exactly what changes, from → to. */
export function changeLine(op: Operation): string {
  const p = op.params;
  switch (op.kind) {
    case 'rollback':
      return `revision \`${e(p.fromRevision)}\` (\`${e(p.fromImage)}\`) → \`${e(p.toRevision)}\` (\`${e(p.toImage)}\`)`;
    case 'restart':
      return `rolling restart of revision \`${e(p.fromRevision)}\` (\`${e(p.fromImage)}\`)`;
    case 'scale':
      return `replicas ${e(p.fromReplicas)} → ${e(p.toReplicas)}`;
    case 'maintenance':
      return `maintenance ${p.fromMaintenance ? 'on' : 'off'} → ${p.toMaintenance ? 'on' : 'off'}`;
    case 'traffic':
      return `traffic ${escapeMrkdwn(traffic(p.fromTraffic))} → ${escapeMrkdwn(traffic(p.toTraffic))}`;
    case 'rollout':
      return `traffic \`${e(p.fromRevision)}\` → \`${e(p.toRevision)}\` (\`${e(p.toImage)}\`) in steps ${escapeMrkdwn((Array.isArray(p.steps) ? p.steps : []).join(' → '))} %, ${e(p.intervalText)} apart`;
  }
}

const VERB: Record<Operation['kind'], string> = {
  rollback: 'roll back',
  restart: 'restart',
  scale: 'scale',
  maintenance: 'switch maintenance for',
  traffic: 'shift traffic of',
  rollout: 'roll out',
};

function seconds(op: Operation): string {
  if (!op.startedAt || !op.finishedAt) return '';
  return ` in ${differenceInSeconds(op.finishedAt, op.startedAt)} s`;
}

/** The final state in one line: "barq-api rolled back from 2 to 1 in 38 s; verified healthy". */
export function finalLine(op: Operation): string {
  const p = op.params;
  const name = `*${escapeMrkdwn(op.service)}*`;
  const what = (() => {
    switch (op.kind) {
      case 'rollback':
        return `rolled back from \`${e(p.fromRevision)}\` to \`${e(p.toRevision)}\``;
      case 'restart':
        return 'restarted';
      case 'scale':
        return `scaled from ${e(p.fromReplicas)} to ${e(p.toReplicas)} replicas`;
      case 'maintenance':
        return `maintenance turned ${p.toMaintenance ? 'on' : 'off'}`;
      case 'traffic':
        return `traffic set to ${escapeMrkdwn(traffic(p.toTraffic))}`;
      case 'rollout':
        return `rolled out \`${e(p.toRevision)}\` to 100 %`;
    }
  })();
  switch (op.state) {
    case 'succeeded':
      return `${name} ${what}${seconds(op)}; verified healthy`;
    case 'failed':
      if (op.kind === 'rollout') {
        return `${name}: the roll-out of \`${e(p.toRevision)}\` ended${seconds(op)}: ${escapeMrkdwn(op.error ?? 'unknown error')}`;
      }
      return `${name}: could not ${VERB[op.kind]} it${seconds(op)}: ${escapeMrkdwn(op.error ?? 'unknown error')}`;
    case 'cancelled':
      return `${name}: cancelled by <@${op.requestedBy}>; nothing was changed`;
    case 'expired':
      return `${name}: not confirmed in time; the card expired and nothing was changed`;
    case 'interrupted':
      return `${name}: interrupted: ${escapeMrkdwn(op.error ?? 'the bot stopped while it ran')}`;
    default:
      return `${name}: ${STATE_LABEL[op.state] ?? op.state}`;
  }
}

const time = (d: Date | null): string => (d ? `${d.toISOString().slice(11, 19)} UTC` : '');

export function cardMessage(op: Operation): { text: string; blocks: KnownBlock[] } {
  const p = op.params;
  const final = ['succeeded', 'failed', 'cancelled', 'expired', 'interrupted', 'rejected'].includes(op.state);
  const head = final
    ? finalLine(op)
    : `*${VERB[op.kind]} ${escapeMrkdwn(op.service)}* (${escapeMrkdwn(op.environment)}): ${STATE_LABEL[op.state] ?? op.state}`;
  const lines = [
    `*Service:* ${escapeMrkdwn(op.service)} · *Environment:* ${escapeMrkdwn(op.environment)} · *Target:* ${e(p.target)}`,
    `*Change:* ${changeLine(op)}`,
    ...(op.kind === 'rollback' && typeof p.why === 'string' ? [`*Chosen:* ${escapeMrkdwn(p.why)}`] : []),
    `*Asked by:* <@${op.requestedBy}>${op.confirmedBy ? ` · *Confirmed by:* <@${op.confirmedBy}>` : ''}`,
    `*Why:* ${op.reason ? escapeMrkdwn(op.reason) : '_no reason given_'}`,
  ];
  const failedChecks = Array.isArray(op.result?.failedChecks) ? (op.result.failedChecks as unknown[]) : [];
  if (op.state === 'failed' && failedChecks.length > 0) {
    lines.push(`*Failed checks:* ${failedChecks.map((c) => escapeMrkdwn(str(c))).join('; ')}`);
  }
  const times = [
    `requested ${time(op.createdAt)}`,
    ...(op.startedAt ? [`started ${time(op.startedAt)}`] : []),
    ...(op.finishedAt
      ? [`finished ${time(op.finishedAt)}${seconds(op) ? ` (${seconds(op).slice(4)})` : ''}`]
      : []),
    ...(op.state === 'requested' && op.expiresAt ? [`expires ${time(op.expiresAt)}`] : []),
  ].join(' · ');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${STATE_LABEL[op.state] ?? op.state} · ${times}` }],
    },
  ];
  if (op.state === 'requested') {
    blocks.push({
      type: 'actions',
      block_id: 'deploy_decision',
      elements: [
        {
          type: 'button',
          action_id: CONFIRM_DEPLOY_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: 'Confirm' },
          value: op.id,
        },
        {
          type: 'button',
          action_id: CANCEL_DEPLOY_ACTION,
          text: { type: 'plain_text', text: 'Cancel' },
          value: op.id,
        },
      ],
    });
  }
  if (op.state === 'failed' && op.startedAt) {
    blocks.push({
      type: 'actions',
      block_id: 'deploy_failed',
      elements: [
        {
          type: 'button',
          action_id: ROLLBACK_FURTHER_ACTION,
          text: { type: 'plain_text', text: 'Roll back further' },
          value: `${op.service}/${op.environment}`,
        },
        // A failed verification, not yet an incident: declare one, prefilled.
        ...(failedChecks.length > 0 && op.incidentNumber === null
          ? [
              {
                type: 'button' as const,
                action_id: DECLARE_FROM_DEPLOY_ACTION,
                style: 'danger' as const,
                text: { type: 'plain_text' as const, text: 'Declare incident' },
                value: declareValue(op, failedChecks.map(str)),
              },
            ]
          : []),
      ],
    });
  }
  return { text: head.replace(/\*/g, ''), blocks };
}
