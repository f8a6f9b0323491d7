/** `/incident stats`: a section per severity, the deploy figures and the error budget per service. */
import type { Block, KnownBlock } from '@slack/types';
import { formatDuration } from '../../config/duration.ts';
import type { DeployFigures, Durations, IncidentFigures, ServiceBudget } from '../../stats/figures.ts';
import type { StatsReport } from '../../stats/stats.ts';
import type { Reply } from '../kit/command.ts';
import { escapeMrkdwn, slackDate } from '../kit/escape.ts';
import { LIMITS, truncateMrkdwn } from '../kit/limits.ts';

const BAR = 10;

function time(d: Durations): string {
  if (d.meanMs === null || d.medianMs === null) return '—';
  return `${formatDuration(d.meanMs)} (median ${formatDuration(d.medianMs)}, ${d.count})`;
}

const percent = (ratio: number | null): string => (ratio === null ? '—' : `${Math.round(ratio * 100)} %`);
const minutes = (m: number): string => `${m.toFixed(1)} min`;

function incidentFields(f: IncidentFigures): { type: 'mrkdwn'; text: string }[] {
  return [
    `*Time to acknowledge*\n${time(f.acknowledge)}`,
    `*Time to mitigate*\n${time(f.mitigate)}`,
    `*Time to resolve*\n${time(f.resolve)}`,
    `*Updates on time*\n${f.updates.onTime} of ${f.updates.due} (${percent(f.updates.ratio)})`,
    `*Escalations*\n${f.escalations.total} (${f.escalations.incidents} incident${f.escalations.incidents === 1 ? '' : 's'})`,
  ].map((text) => ({ type: 'mrkdwn', text }));
}

const counted = (f: IncidentFigures): string =>
  `${f.incidents} incident${f.incidents === 1 ? '' : 's'}${f.open > 0 ? `, ${f.open} open` : ''}`;

function deployLine(f: DeployFigures): string {
  const frequency =
    f.perWeek === null ? '' : ` · ${f.perWeek.toFixed(1)} a week (${(f.perDay ?? 0).toFixed(2)} a day)`;
  return `${f.executed} ran, ${f.succeeded} succeeded${frequency} · change failure rate ${percent(f.changeFailureRate)} (${f.failedChanges} of ${f.executed}) · time to restore ${time(f.restore)}${f.unrestored > 0 ? `, ${f.unrestored} not restored` : ''}`;
}

/** `██████░░░░`: the share of the budget spent (full, and :red_circle:, when it is spent out). */
export function budgetBar(b: ServiceBudget): string {
  const share = b.budgetMinutes <= 0 ? 1 : Math.min(1, b.spentMinutes / b.budgetMinutes);
  const filled = Math.round(share * BAR);
  const mark =
    b.remainingMinutes < 0
      ? ':red_circle:'
      : share >= 0.75
        ? ':large_orange_circle:'
        : ':large_green_circle:';
  return `${mark} \`${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}\``;
}

function budgetLine(b: ServiceBudget): string {
  const left =
    b.remainingMinutes < 0
      ? `*over by ${minutes(-b.remainingMinutes)}*`
      : `${minutes(b.remainingMinutes)} left`;
  return `${budgetBar(b)} *${escapeMrkdwn(b.service)}* (SLO ${b.slo} %): ${minutes(b.spentMinutes)} of ${minutes(b.budgetMinutes)} spent, ${left}`;
}

const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) },
});

export function buildStatsReply(report: StatsReport, sinceText: string): Reply {
  const scope = report.service === null ? '' : ` for *${escapeMrkdwn(report.service)}*`;
  const title = `*Incident stats${scope}* since ${slackDate(report.since)} (${escapeMrkdwn(sinceText)}): ${counted(report.overall)}`;
  const blocks: (KnownBlock | Block)[] = [section(title)];
  if (report.overall.incidents > 0) blocks.push({ type: 'section', fields: incidentFields(report.overall) });
  for (const { severity, figures } of report.bySeverity.slice(0, 10)) {
    blocks.push(section(`*${escapeMrkdwn(severity)}*: ${counted(figures)}`));
    blocks.push({ type: 'section', fields: incidentFields(figures) });
  }
  if (report.byService.length > 0) {
    const lines = report.byService.map(
      ({ service, figures: f }) =>
        `• *${escapeMrkdwn(service)}*: ${counted(f)} · acknowledge ${time(f.acknowledge)} · resolve ${time(f.resolve)}`,
    );
    blocks.push(section(`*By service*\n${lines.join('\n')}`));
  }
  blocks.push({ type: 'divider' });
  const targets = report.deploysByService
    .slice(0, 20)
    .map(
      ({ service, environment, figures }) =>
        `• *${escapeMrkdwn(service)}* (${escapeMrkdwn(environment)}): ${deployLine(figures)}`,
    );
  blocks.push(
    section(
      `*Changes (/deploy)*: ${deployLine(report.deploys)}${targets.length > 0 ? `\n${targets.join('\n')}` : ''}`,
    ),
  );
  blocks.push({ type: 'divider' });
  const month = report.budget.month.toISOString().slice(0, 7);
  const budgets = report.budget.services.slice(0, 30).map(budgetLine);
  blocks.push(
    section(
      `*Error budget, ${month}* (${report.budget.severities.map(escapeMrkdwn).join(', ')} incidents count as downtime)\n${budgets.length > 0 ? budgets.join('\n') : '_No services configured._'}`,
    ),
  );
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: 'Means, medians in brackets. The budget is (100 − SLO) % of an average month (30.44 days): 99.9 % = 43.8 minutes.',
      },
    ],
  });
  return { text: truncateMrkdwn(title, LIMITS.fallbackText), blocks: blocks.slice(0, LIMITS.messageBlocks) };
}
