/** `/deploy audit`: one page of audit records, newest first, packed within Slack's block limits. */
import type { Block, KnownBlock } from '@slack/types';
import type { AuditPage } from '../../deploy/audit.ts';
import { incidentId } from '../../incidents/incident.ts';
import type { AuditOutcome, AuditRecord } from '../../store/repositories/audit.ts';
import type { Reply } from '../kit/command.ts';
import { escapeMrkdwn, slackDate, truncate } from '../kit/escape.ts';
import { LIMITS, truncateMrkdwn } from '../kit/limits.ts';
import { packLines } from '../kit/pack-lines.ts';

const OUTCOME_EMOJI: Record<AuditOutcome, string> = {
  requested: ':hourglass_flowing_sand:',
  approved: ':thumbsup:',
  rejected: ':no_entry:',
  denied: ':no_entry_sign:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  cancelled: ':heavy_multiplication_x:',
  started: ':arrow_forward:',
  verifying: ':mag:',
  expired: ':hourglass:',
  interrupted: ':warning:',
  awaiting_approval: ':hourglass_flowing_sand:',
  frozen: ':snowflake:',
  unfrozen: ':sunny:',
  step: ':stairs:',
  paused: ':double_vertical_bar:',
  resumed: ':arrow_forward:',
  aborted: ':octagonal_sign:',
  promoted: ':rocket:',
  rolled_back: ':rewind:',
  inconclusive: ':grey_question:',
  acknowledged: ':eyes:',
  escalated: ':arrow_double_up:',
  paged: ':pager:',
};

/** Longest details shown per record (the CSV export has them whole). */
const DETAILS_MAX = 200;
const LINE_MAX = 600;

/** A Slack user id becomes a mention (shown as the name, pings nobody in an ephemeral); anything else is text. */
function actorText(actor: string): string {
  return /^[UW][A-Z0-9_]{2,}$/.test(actor) ? `<@${actor}>` : escapeMrkdwn(actor);
}

export function auditLine(record: AuditRecord): string {
  const where = record.service
    ? ` · \`${escapeMrkdwn(record.service)}\`${record.environment ? ` (${escapeMrkdwn(record.environment)})` : ''}`
    : '';
  const incident = record.incidentNumber === null ? '' : ` · ${incidentId(record.incidentNumber)}`;
  const details =
    Object.keys(record.details).length === 0
      ? ''
      : ` · ${escapeMrkdwn(truncate(JSON.stringify(record.details), DETAILS_MAX))}`;
  return truncateMrkdwn(
    `${OUTCOME_EMOJI[record.outcome]} ${slackDate(record.at)} · ${actorText(record.actor)} · *${escapeMrkdwn(record.action)}* ${record.outcome}${where}${incident}${details}`,
    LINE_MAX,
  );
}

export interface AuditListContext {
  service: string | undefined;
  sinceText: string;
  since: Date;
  /** Whether the service is one in the config (a filter by an unknown name says so when empty). */
  serviceConfigured: boolean;
}

function scope(ctx: AuditListContext): string {
  const who = ctx.service ? `\`${escapeMrkdwn(ctx.service)}\`` : 'all services';
  return `${who}, since ${slackDate(ctx.since)} (last ${escapeMrkdwn(ctx.sinceText)})`;
}

function command(ctx: AuditListContext, extra: string): string {
  return [
    '/deploy audit',
    ctx.service ? escapeMrkdwn(ctx.service) : undefined,
    `--since ${escapeMrkdwn(ctx.sinceText)}`,
    extra,
  ]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}

export function buildAuditList(page: AuditPage, ctx: AuditListContext): Reply {
  if (page.total === 0) {
    const unknown =
      ctx.service && !ctx.serviceConfigured
        ? ` (\`${escapeMrkdwn(ctx.service)}\` is not a service in the bot's config; records of removed services stay in the log)`
        : '';
    return {
      text: `:ledger: No audit records for ${scope(ctx)}${unknown}. A longer \`--since\` looks further back.`,
    };
  }
  const from = (page.page - 1) * page.pageSize + 1;
  const to = from + page.records.length - 1;
  const header = `:ledger: *Audit log* · ${scope(ctx)} · records ${from}–${to} of ${page.total} (page ${page.page} of ${page.pages}), newest first`;
  const sections = packLines(page.records.map(auditLine));
  const blocks: (KnownBlock | Block)[] = [
    { type: 'section', text: { type: 'mrkdwn', text: header } },
    ...sections
      .slice(0, LIMITS.messageBlocks - 2)
      .map((text): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } })),
  ];
  const hints = [
    page.page < page.pages ? `Older: \`${command(ctx, `--page ${page.page + 1}`)}\`` : undefined,
    `All as CSV: \`${['/deploy audit export', ctx.service ? escapeMrkdwn(ctx.service) : undefined, `--since ${escapeMrkdwn(ctx.sinceText)}`].filter(Boolean).join(' ')}\``,
  ].filter((h): h is string => h !== undefined);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: hints.join(' · ') }] });
  return { text: truncateMrkdwn(header, LIMITS.fallbackText), blocks };
}
