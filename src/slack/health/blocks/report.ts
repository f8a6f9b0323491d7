import { type BlockBuilder, Blocks, Elements, Message } from 'slack-block-builder';
import {
  allHeadline,
  healthyServiceLine,
  moreLines,
  moreServices,
  postToChannelLabel,
  serviceHeadline,
  stopWatchingLabel,
  watchUntilHealthyLabel,
} from '../../../../templates/health.ts';
import { formatMs } from '../../../health/format.ts';
import { type HealthStatus, statusRank, worstStatus } from '../../../health/types.ts';
import type { Reply } from '../../kit/command.ts';
import { escapeMrkdwn, slackDate, truncate } from '../../kit/escape.ts';
import { LIMITS } from '../../kit/limits.ts';
import { packLines } from '../../kit/pack-lines.ts';

/** Slack: at most 50 blocks a message, 3000 characters a section text. */
export const MAX_BLOCKS = 50;
export const MAX_SECTION_CHARS = LIMITS.sectionText;

/** Action ids of the buttons on a health answer. */
export const POST_HEALTH_ACTION = 'deploy_health_post';
export const WATCH_HEALTH_ACTION = 'deploy_health_watch';
export const STOP_WATCH_ACTION = 'deploy_health_watch_stop';

/** What rendering needs of a check result (a CheckResult fits; so does one decoded from a button). */
export interface ResultView {
  name: string;
  status: HealthStatus;
  latencyMs?: number | undefined;
  reason?: string | undefined;
  note?: string | undefined;
  children?: readonly ResultView[] | undefined;
}

/** What rendering needs of a HealthReport. */
export interface ReportView {
  service?: string | undefined;
  environment?: string | undefined;
  status: HealthStatus;
  startedAt: Date;
  durationMs: number;
  results: readonly ResultView[];
}

export interface ReportButtons {
  /** Value of the "Post to channel" button; no button when unset. */
  postValue?: string;
  /** Value of the "Watch until healthy" button; no button when unset. */
  watchValue?: string;
  /** Value of a running watch's "Stop watching" button; no button when unset. */
  stopWatchValue?: string;
}

const EMOJI: Record<HealthStatus, string> = {
  healthy: ':large_green_circle:',
  degraded: ':large_yellow_circle:',
  unhealthy: ':red_circle:',
};

export function statusEmoji(status: HealthStatus): string {
  return EMOJI[status];
}

/** `*barq-api* (production)`, escaped. */
export function serviceLabel(report: Pick<ReportView, 'service' | 'environment'>): string {
  const name = `*${escapeMrkdwn(report.service ?? 'checks')}*`;
  return report.environment ? `${name} (${escapeMrkdwn(report.environment)})` : name;
}

/** Indentation of nested checks: em spaces, which Slack keeps (it collapses plain leading spaces). */
const INDENT = '\u2003\u2003';

/**
 * One line per check, in the engine's order: status emoji, name, latency, reason and note;
 * components a health body reports are indented beneath their parent.
 */
export function checkLines(results: readonly ResultView[], depth = 0): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const latency = r.latencyMs === undefined ? '' : ` · ${formatMs(r.latencyMs)}`;
    const said = [r.reason, r.note].filter((t): t is string => Boolean(t)).join('; ');
    const reason = said ? ` — ${escapeMrkdwn(said)}` : '';
    const line = `${INDENT.repeat(depth)}${statusEmoji(r.status)} *${escapeMrkdwn(r.name)}*${latency}${reason}`;
    lines.push(truncate(line, 500));
    if (r.children && r.children.length > 0) lines.push(...checkLines(r.children, depth + 1));
  }
  return lines;
}

/** Keeps whole lines up to `maxChars`, ending with "…and N more" when some had to go. */
export function fitLines(lines: readonly string[], maxChars = MAX_SECTION_CHARS): string {
  const all = lines.join('\n');
  if (all.length <= maxChars) return all;
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const tail = moreLines(lines.length - index);
    if (used + line.length + 1 + tail.length + 1 > maxChars) {
      return [...kept, tail].join('\n');
    }
    kept.push(line);
    used += line.length + 1;
  }
  return kept.join('\n');
}

function countHealthy(results: readonly ResultView[]): number {
  return results.filter((r) => r.status === 'healthy').length;
}

/** The headline of one service's report: overall status first. */
export function serviceHeadlineText(report: ReportView): string {
  return serviceHeadline({
    emoji: statusEmoji(report.status),
    service: serviceLabel(report),
    status: report.status,
    healthy: countHealthy(report.results),
    total: report.results.length,
    checkedAt: slackDate(report.startedAt),
    duration: formatMs(report.durationMs),
  });
}

function buttons(options: ReportButtons) {
  const elements = [];
  if (options.postValue !== undefined)
    elements.push(
      Elements.Button({ text: postToChannelLabel, actionId: POST_HEALTH_ACTION, value: options.postValue }),
    );
  if (options.watchValue !== undefined)
    elements.push(
      Elements.Button({
        text: watchUntilHealthyLabel,
        actionId: WATCH_HEALTH_ACTION,
        value: options.watchValue,
      }).primary(),
    );
  if (options.stopWatchValue !== undefined)
    elements.push(
      Elements.Button({
        text: stopWatchingLabel,
        actionId: STOP_WATCH_ACTION,
        value: options.stopWatchValue,
      }),
    );
  return elements;
}

type AnyBlock = BlockBuilder;

function toReply(text: string, blocks: AnyBlock[]): Reply {
  const message = Message({ text: truncate(text, MAX_SECTION_CHARS) })
    .blocks(...blocks)
    .buildToObject();
  return { text: message.text ?? text, blocks: message.blocks ?? [] } as Reply;
}

/**
 * One service's report: the overall status, then a line per check, an optional note (context) and
 * the buttons.
 */
export function buildServiceReport(
  report: ReportView,
  options: ReportButtons & { note?: string; lead?: string } = {},
): Reply {
  const headline = serviceHeadlineText(report);
  const top = options.lead ? `${options.lead}\n${headline}` : headline;
  const blocks: AnyBlock[] = [Blocks.Section({ text: truncate(top, MAX_SECTION_CHARS) })];
  const reserved = 1 + (options.note ? 1 : 0) + 1;
  const sections = packLines(checkLines(report.results));
  const room = MAX_BLOCKS - reserved;
  const shown =
    sections.length > room
      ? [...sections.slice(0, room - 1), moreLines(sections.length - room + 1)]
      : sections;
  for (const text of shown) blocks.push(Blocks.Section({ text }));
  if (options.note) blocks.push(Blocks.Context().elements(truncate(options.note, 2000)));
  const elements = buttons(options);
  if (elements.length > 0) blocks.push(Blocks.Actions().elements(...elements));
  return toReply(top, blocks);
}

/** A running watch's first words, before its first round: what it does, and its "Stop watching" button. */
export function buildWatchOpened(lead: string, stopWatchValue: string): Reply {
  return toReply(lead, [
    Blocks.Section({ text: truncate(lead, MAX_SECTION_CHARS) }),
    Blocks.Actions().elements(...buttons({ stopWatchValue })),
  ]);
}

/** `*api* (database, redis)`: a check's name, with the components its health body reported. */
function checkNames(result: ResultView): string {
  const name = `*${escapeMrkdwn(result.name)}*`;
  const children = result.children ?? [];
  if (children.length === 0) return name;
  return `${name} (${children.map((c) => escapeMrkdwn(c.name)).join(', ')})`;
}

interface Chunk {
  text: string;
  services: number;
}

/**
 * Several services' reports (`/deploy health all`, an incident's services): the overall status
 * first, then the services that need attention with a line per check (worst first), then the
 * healthy ones a line each, naming every check that ran. Fits Slack's limits: sections of at most 3000 characters, at most 50 blocks,
 * "…and N more services" for the rest.
 */
export function buildMultiReport(
  reports: readonly ReportView[],
  options: { postValue?: string; note?: string; headline?: string; trailer?: readonly string[] } = {},
): Reply {
  const counts = { healthy: 0, degraded: 0, unhealthy: 0 };
  for (const r of reports) counts[r.status] += 1;
  const overall = worstStatus(reports.map((r) => r.status));
  const checkedAt = reports[0]?.startedAt ?? new Date();
  const headline =
    options.headline ??
    allHeadline({
      emoji: statusEmoji(overall),
      total: reports.length,
      ...counts,
      checkedAt: slackDate(checkedAt),
    });

  const ordered = reports
    .map((report, index) => ({ report, index }))
    .sort((a, b) => statusRank(b.report.status) - statusRank(a.report.status) || a.index - b.index)
    .map((x) => x.report);
  const chunks: Chunk[] = [];
  const healthyLines: string[] = [];
  for (const report of ordered) {
    if (report.status === 'healthy') {
      healthyLines.push(
        truncate(
          healthyServiceLine({
            emoji: statusEmoji('healthy'),
            service: serviceLabel(report),
            checks: report.results.map(checkNames),
            duration: formatMs(report.durationMs),
          }),
          500,
        ),
      );
      continue;
    }
    const lines = [
      serviceHeadlineText(report),
      ...checkLines(report.results).map((line) => `${INDENT}${line}`),
    ];
    chunks.push({ text: fitLines(lines), services: 1 });
  }
  // Healthy services: one line each, packed into as few sections as fit.
  let pending: string[] = [];
  let pendingLength = 0;
  for (const line of healthyLines) {
    if (pending.length > 0 && pendingLength + 1 + line.length > MAX_SECTION_CHARS) {
      chunks.push({ text: pending.join('\n'), services: pending.length });
      pending = [];
      pendingLength = 0;
    }
    pending.push(line);
    pendingLength += (pending.length > 1 ? 1 : 0) + line.length;
  }
  if (pending.length > 0) chunks.push({ text: pending.join('\n'), services: pending.length });

  const trailer = options.trailer ?? [];
  const blocks: AnyBlock[] = [Blocks.Section({ text: truncate(headline, MAX_SECTION_CHARS) })];
  const reserved =
    1 + trailer.length + (options.note ? 1 : 0) + (options.postValue !== undefined ? 1 : 0) + 1;
  const room = MAX_BLOCKS - reserved;
  const shown = chunks.slice(0, room);
  for (const chunk of shown) blocks.push(Blocks.Section({ text: chunk.text }));
  const left = chunks.slice(room).reduce((sum, c) => sum + c.services, 0);
  if (left > 0) blocks.push(Blocks.Context().elements(moreServices(left)));
  for (const line of trailer) blocks.push(Blocks.Section({ text: truncate(line, MAX_SECTION_CHARS) }));
  if (options.note) blocks.push(Blocks.Context().elements(truncate(options.note, 2000)));
  const elements = buttons({ ...(options.postValue !== undefined ? { postValue: options.postValue } : {}) });
  if (elements.length > 0) blocks.push(Blocks.Actions().elements(...elements));
  return toReply(headline, blocks);
}
