/**
 * The card of a gradual roll-out once confirmed, updated in place: step 2 of 3, 50 %, the latest
 * measurement of each metric, when the next step is due, and Pause / Resume / Abort / Promote now
 * (Declare incident once it rolled back).
 */
import type { KnownBlock } from '@slack/types';
import { formatValue } from '../../deploy/analysis.ts';
import { currentMeasurements, promotionProgress, rolloutPlan } from '../../deploy/rollout.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import type { RolloutRun } from '../../store/repositories/rollouts.ts';
import { escapeMrkdwn, slackDate } from '../kit/escape.ts';
import {
  type CardContext,
  cardMessage,
  changeLine,
  DECLARE_FROM_DEPLOY_ACTION,
  declareValue,
  groupWho,
} from './blocks/card.ts';

export const PAUSE_ROLLOUT_ACTION = 'deploy_rollout_pause';
export const RESUME_ROLLOUT_ACTION = 'deploy_rollout_resume';
export const ABORT_ROLLOUT_ACTION = 'deploy_rollout_abort';
export const PROMOTE_ROLLOUT_ACTION = 'deploy_rollout_promote';

export const RUN_LABEL: Record<RolloutRun['state'], string> = {
  running: ':arrows_counterclockwise: rolling out',
  paused: ':double_vertical_bar: paused',
  inconclusive: ':question: paused: the analysis could not decide, a human must',
  rolled_back: ':rewind: rolled back by itself',
  aborted: ':no_entry_sign: aborted, traffic back',
  succeeded: ':white_check_mark: rolled out',
};

function button(actionId: string, text: string, value: string, style?: 'primary' | 'danger') {
  return {
    type: 'button' as const,
    action_id: actionId,
    text: { type: 'plain_text' as const, text },
    value,
    ...(style ? { style } : {}),
  };
}

/** Who is still needed for a promotion: "pm (<@U1>), 1 more approver". */
export function stillNeededText(
  missingGroups: readonly string[],
  missing: number,
  approvers: CardContext['approvers'],
): string {
  const needs = missingGroups.map((g) => groupWho(g, approvers));
  const others = missing - missingGroups.length;
  if (others > 0) needs.push(`${others} more approver${others === 1 ? '' : 's'}`);
  return needs.join(', ');
}

/**
 * "*Promote now:* asked by <@A> · approved by <@B> (tech-lead) · still needed: pm (<@C>)"; null
 * while nobody asked to promote.
 */
export function promotionLine(run: RolloutRun, approvers: CardContext['approvers']): string | null {
  const found = promotionProgress(run);
  if (!found) return null;
  const { promotion, progress } = found;
  const parts = [`asked by <@${promotion.requestedBy}>`];
  if (promotion.approvals.length > 0) {
    parts.push(
      `approved by ${promotion.approvals
        .map((a) => `<@${a.approver}>${a.groups.length > 0 ? ` (${escapeMrkdwn(a.groups.join(', '))})` : ''}`)
        .join(', ')}`,
    );
  } else {
    parts.push('no approval yet');
  }
  if (!progress.satisfied)
    parts.push(`still needed: ${stillNeededText(progress.missingGroups, progress.missing, approvers)}`);
  return `*Promote now:* ${parts.join(' · ')}`;
}

/** "step 2 of 3, 50 %". */
export function progressText(op: Operation, run: RolloutRun): string {
  const plan = rolloutPlan(op);
  if (run.stepIndex < 0) return `step 0 of ${plan.steps.length}, 0 %`;
  return `step ${run.stepIndex + 1} of ${plan.steps.length}, ${plan.steps[run.stepIndex] ?? 100} %`;
}

export function rolloutCardMessage(
  op: Operation,
  run: RolloutRun | null,
  context: CardContext = {},
): { text: string; blocks: KnownBlock[] } {
  // Before it runs (asked, awaiting approval, approved) or when it never ran: the ordinary card.
  if (!run || !['running', 'verifying', 'succeeded', 'failed', 'interrupted'].includes(op.state)) {
    return cardMessage(op, context);
  }
  const plan = rolloutPlan(op);
  const final = op.state === 'succeeded' || op.state === 'failed' || op.state === 'interrupted';
  const head = final
    ? cardMessage(op, context).text
    : `*roll out ${escapeMrkdwn(op.service)}* (${escapeMrkdwn(op.environment)}): ${RUN_LABEL[run.state]} · ${progressText(op, run)}`;
  const lines = [
    `*Service:* ${escapeMrkdwn(op.service)} · *Environment:* ${escapeMrkdwn(op.environment)} · *Target:* ${escapeMrkdwn(String(op.params.target ?? 'unknown'))}`,
    `*Change:* ${changeLine(op)}`,
    `*Progress:* ${progressText(op, run)} · ${RUN_LABEL[run.state]}`,
  ];
  for (const metric of plan.analysis) {
    const taken = currentMeasurements(run, metric.name);
    const latest = taken.at(-1) ?? run.measurements.filter((m) => m.metric === metric.name).at(-1);
    const failed = taken.filter((m) => m.phase === 'failed').length;
    lines.push(
      `*${escapeMrkdwn(metric.name)}:* ${latest ? escapeMrkdwn(formatValue(metric.name, latest.value)) : 'not measured yet'}` +
        ` (${taken.length} of ${metric.count} this step, ${failed} failed, ${metric.failureLimit} allowed; ${escapeMrkdwn(metric.failureCondition ?? metric.successCondition ?? '')})`,
    );
  }
  if (run.state === 'running' && run.nextStepAt && run.stepIndex < plan.steps.length - 1) {
    const next = plan.steps[run.stepIndex + 1];
    lines.push(`*Next step:* ${next} % ${slackDate(run.nextStepAt, '{date_short_pretty} {time_secs}')}`);
  }
  if (run.reason) lines.push(`*Why:* ${escapeMrkdwn(run.reason)}`);
  const promotion = promotionLine(run, context.approvers);
  if (promotion) lines.push(promotion);
  lines.push(
    `*Asked by:* <@${op.requestedBy}>${op.confirmedBy ? ` · *Confirmed by:* <@${op.confirmedBy}>` : ''}${op.reason ? ` · *Reason:* ${escapeMrkdwn(op.reason)}` : ''}`,
  );
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
  ];
  if (!final && (run.state === 'running' || run.state === 'paused' || run.state === 'inconclusive')) {
    blocks.push({
      type: 'actions',
      block_id: 'deploy_rollout',
      elements: [
        run.state === 'running'
          ? button(PAUSE_ROLLOUT_ACTION, 'Pause', op.id)
          : button(RESUME_ROLLOUT_ACTION, 'Resume', op.id, 'primary'),
        button(ABORT_ROLLOUT_ACTION, 'Abort', op.id, 'danger'),
        button(PROMOTE_ROLLOUT_ACTION, 'Promote now', op.id),
      ],
    });
  }
  if (op.state === 'failed' && run.state === 'rolled_back' && op.incidentNumber === null) {
    blocks.push({
      type: 'actions',
      block_id: 'deploy_rollout_failed',
      elements: [
        button(
          DECLARE_FROM_DEPLOY_ACTION,
          'Declare incident',
          declareValue(op, run.reason ? [run.reason] : []),
          'danger',
        ),
      ],
    });
  }
  return { text: head.replace(/\*/g, ''), blocks };
}
