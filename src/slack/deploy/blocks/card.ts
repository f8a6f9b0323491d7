/** The confirmation card of a /deploy operation, updated in place through its states. */

import type { KnownBlock } from '@slack/types';
import { differenceInSeconds } from 'date-fns/differenceInSeconds';
import { type ApprovalRule, groupsOf, parseRule, progress } from '../../../deploy/approval-rules.ts';
import type { Approval } from '../../../store/repositories/approvals.ts';
import type { Freeze } from '../../../store/repositories/freezes.ts';
import type { Operation } from '../../../store/repositories/operations.ts';
import { slackArchiveLink } from '../../../util/slack-links.ts';
import { escapeMrkdwn, slackDate } from '../../kit/escape.ts';
import { mention } from '../../kit/usergroups.ts';

export const CONFIRM_DEPLOY_ACTION = 'deploy_confirm';
export const CANCEL_DEPLOY_ACTION = 'deploy_cancel';
export const ROLLBACK_FURTHER_ACTION = 'deploy_rollback_further';
export const ROLLBACK_TO_ACTION = 'deploy_rollback_to';
export const DECLARE_FROM_DEPLOY_ACTION = 'deploy_declare_incident';
export const APPROVE_DEPLOY_ACTION = 'deploy_approve';
export const REJECT_DEPLOY_ACTION = 'deploy_reject';
export const EMERGENCY_DEPLOY_ACTION = 'deploy_emergency';

/** What the card shows besides the operation: its approvals, the environment's freeze, who is in which group. */
export interface CardContext {
  approvals?: readonly Approval[];
  freeze?: Freeze | null;
  /** Group name → its Slack user ids and user-group ids (`approvers`), for "who is needed". */
  approvers?: Record<string, readonly string[]>;
}

/** A link to the operation's card ("the card", plain when it was never posted). */
export function cardLink(op: Pick<Operation, 'cardChannelId' | 'cardTs'>, label = 'the card'): string {
  if (!op.cardChannelId || !op.cardTs) return label;
  return `<${slackArchiveLink(op.cardChannelId, op.cardTs)}|${label}>`;
}

/** "tech-lead (<@U1>, <!subteam^S1>)": a group and who is in it. */
export function groupWho(group: string, approvers: Record<string, readonly string[]> | undefined): string {
  const ids = approvers?.[group] ?? [];
  return `${escapeMrkdwn(group)} (${ids.length > 0 ? ids.map(mention).join(', ') : `no one in approvers.${escapeMrkdwn(group)}`})`;
}

/** The approval lines of the card: the rule, who approved (through which groups), who is still needed. */
export function approvalLines(op: Operation, context: CardContext): string[] {
  const rule: ApprovalRule | null = parseRule(op.approvalRule);
  if (!rule) return [];
  const approvals = context.approvals ?? [];
  const approved = approvals.filter((a) => a.decision === 'approved');
  const p = progress(
    rule,
    approved.map((a) => ({ approver: a.approver, groups: groupsOf(a.group) })),
  );
  const total = Math.max(rule.required, rule.fromGroups.length);
  const lines = [
    `*Approvals:* ${p.approvers.length} of ${total}${rule.fromGroups.length > 0 ? ` (one from each of ${rule.fromGroups.map(escapeMrkdwn).join(', ')})` : ''}${rule.duringIncident ? ' · the rule during an incident' : ''}`,
  ];
  if (approved.length > 0) {
    lines.push(
      `*Approved by:* ${approved
        .map((a) => `<@${a.approver}>${a.group ? ` (${escapeMrkdwn(groupsOf(a.group).join(', '))})` : ''}`)
        .join(', ')}`,
    );
  }
  for (const r of approvals.filter((a) => a.decision === 'rejected')) {
    lines.push(`*Rejected by:* <@${r.approver}>: ${escapeMrkdwn(r.reason ?? 'no reason given')}`);
  }
  if (op.state === 'awaiting_approval' && !p.satisfied) {
    const needs = p.missingGroups.map((g) => groupWho(g, context.approvers));
    const others = p.missing - p.missingGroups.length;
    if (others > 0) needs.push(`${others} more approver${others === 1 ? '' : 's'}`);
    lines.push(`*Still needed:* ${needs.join(', ')}`);
  }
  return lines;
}

/** Why the operation may not start (window, holiday, freeze), or how it passed; null when nothing applies. */
export function gateLines(op: Operation, context: CardContext): string[] {
  const lines: string[] = [];
  const gate = op.gate ?? {};
  const window = gate.window as
    | { why?: string; nextOpen?: string | null; windows?: string; holiday?: string }
    | undefined;
  const passed = gate.passedAs as string | undefined;
  if (
    window &&
    !['succeeded', 'failed', 'cancelled', 'expired', 'interrupted', 'rejected'].includes(op.state)
  ) {
    const next = window.nextOpen
      ? `the next window opens ${slackDate(new Date(window.nextOpen))}`
      : 'no window opens in the next year';
    const why =
      window.why === 'holiday'
        ? `${escapeMrkdwn(window.holiday ?? 'today')} is a holiday: no deploy window for ${escapeMrkdwn(op.environment)}`
        : `Outside the ${escapeMrkdwn(op.environment)} deploy window (${escapeMrkdwn(window.windows ?? '')})`;
    lines.push(`:no_entry: ${why}; ${next}.`);
  }
  const freeze = context.freeze;
  if (freeze) {
    lines.push(
      `:ice_cube: *${escapeMrkdwn(freeze.environment)} is frozen* by <@${freeze.frozenBy}>${freeze.until ? ` until ${slackDate(freeze.until)}` : ' until lifted'}: ${escapeMrkdwn(freeze.reason)}. Only emergency requests pass.`,
    );
  }
  if (passed === 'incident' && (window || gate.freeze)) {
    lines.push(
      ':rotating_light: For an open incident of an exempt severity: windows and freezes do not apply (approvals do).',
    );
  }
  if (op.emergencyReason) {
    lines.push(
      `:rotating_light: *Emergency* (asked by <@${op.emergencyBy ?? op.requestedBy}>): ${escapeMrkdwn(op.emergencyReason)}`,
    );
  }
  return lines;
}

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
      return op.approvalRule
        ? `${name}: not approved in time; the request expired and nothing was changed`
        : `${name}: not confirmed in time; the card expired and nothing was changed`;
    case 'rejected': {
      const m = /^rejected by (\S+): ([\s\S]*)$/.exec(op.error ?? '');
      return `${name}: rejected${m ? ` by <@${m[1]}>: ${escapeMrkdwn(m[2] ?? '')}` : ''}; nothing was changed`;
    }
    case 'interrupted':
      return `${name}: interrupted: ${escapeMrkdwn(op.error ?? 'the bot stopped while it ran')}`;
    default:
      return `${name}: ${STATE_LABEL[op.state] ?? op.state}`;
  }
}

const time = (d: Date | null): string => (d ? `${d.toISOString().slice(11, 19)} UTC` : '');

const button = (action: string, text: string, value: string, style?: 'primary' | 'danger') => ({
  type: 'button' as const,
  action_id: action,
  text: { type: 'plain_text' as const, text },
  value,
  ...(style ? { style } : {}),
});

/** The buttons of an operation that is not started yet. */
function decisionButtons(op: Operation) {
  const blockedNow = op.gate?.open === false;
  switch (op.state) {
    case 'requested':
      return blockedNow && !op.emergencyReason
        ? [
            button(EMERGENCY_DEPLOY_ACTION, 'Request as emergency', op.id, 'danger'),
            button(CANCEL_DEPLOY_ACTION, 'Cancel', op.id),
          ]
        : [
            button(CONFIRM_DEPLOY_ACTION, 'Confirm', op.id, 'primary'),
            button(CANCEL_DEPLOY_ACTION, 'Cancel', op.id),
          ];
    case 'awaiting_approval':
      return [
        button(APPROVE_DEPLOY_ACTION, 'Approve', op.id, 'primary'),
        button(REJECT_DEPLOY_ACTION, 'Reject', op.id, 'danger'),
        button(CANCEL_DEPLOY_ACTION, 'Cancel', op.id),
      ];
    case 'approved':
      return [
        button(CONFIRM_DEPLOY_ACTION, 'Start', op.id, 'primary'),
        ...(op.emergencyReason
          ? []
          : [button(EMERGENCY_DEPLOY_ACTION, 'Request as emergency', op.id, 'danger')]),
        button(CANCEL_DEPLOY_ACTION, 'Cancel', op.id),
      ];
    default:
      return [];
  }
}

export function cardMessage(
  op: Operation,
  context: CardContext = {},
): { text: string; blocks: KnownBlock[] } {
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
    ...approvalLines(op, context),
  ];
  const gate = gateLines(op, context);
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
    ...(['requested', 'awaiting_approval', 'approved'].includes(op.state) && op.expiresAt
      ? [`expires ${time(op.expiresAt)}`]
      : []),
  ].join(' · ');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
    ...(gate.length > 0
      ? [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: gate.join('\n') } }]
      : []),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${STATE_LABEL[op.state] ?? op.state} · ${times}` }],
    },
  ];
  const decisions = decisionButtons(op);
  if (decisions.length > 0)
    blocks.push({ type: 'actions', block_id: 'deploy_decision', elements: decisions });
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
