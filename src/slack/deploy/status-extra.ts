/**
 * `/deploy status` beyond the command's parsing: the platform's answer within a deadline, the last
 * operations and open incidents naming the service, a health summary, and the "Post to channel"
 * button (its action re-reads and posts for everyone).
 */
import type { KnownBlock } from '@slack/types';
import {
  platformNames,
  statusDetails,
  statusFailed,
  statusHeadline,
  statusTimedOut,
} from '../../../templates/deploy-status.ts';
import type { ServiceConfig } from '../../config/schema.ts';
import { rolloutPlan } from '../../deploy/rollout.ts';
import { incidentId } from '../../incidents/incident.ts';
import { PlatformError } from '../../platform/errors.ts';
import type { PlatformStatus } from '../../platform/platform.ts';
import type { Services } from '../../services.ts';
import { statusEmoji } from '../health/blocks/report.ts';
import type { Reply } from '../kit/command.ts';
import { escapeMrkdwn, slackDate } from '../kit/escape.ts';
import { unavailableText } from '../kit/unavailable.ts';
import { cardLink } from './blocks/card.ts';
import { progressText, promotionLine, RUN_LABEL } from './rollout-card.ts';

/**
 * Longest wait for the platform's answer. Above the adapters' own deadline for getting credentials
 * (2 s on Cloud Run), so that their plain words reach the user rather than a bare timeout.
 */
export const STATUS_DEADLINE_MS = 4_000;
/** Longest wait for the health checks' answer (the health service has its own per-check deadlines). */
export const STATUS_HEALTH_DEADLINE_MS = 10_000;

export const POST_DEPLOY_STATUS_ACTION = 'deploy_status_post';

class StatusDeadline extends Error {}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  // Past the deadline nobody waits for it, but its failure must still be handled.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StatusDeadline()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export async function recentAndIncidents(
  services: Pick<Services, 'repos' | 'logger'>,
  service: string,
  environment: string,
): Promise<string[]> {
  try {
    const [ops, incidents] = await Promise.all([
      services.repos.operations.listRecent({ service, environment, limit: 3 }),
      services.repos.incidents.listOpen(),
    ]);
    const lines: string[] = [];
    if (ops.length > 0) {
      lines.push(
        `Last operations: ${ops
          .map(
            (o) =>
              `${o.kind} ${o.state} (<@${o.requestedBy}>, ${o.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC)`,
          )
          .join(' · ')}`,
      );
    }
    const naming = incidents.filter((i) => i.affectedServices.includes(service));
    if (naming.length > 0) {
      lines.push(
        `Open incidents: ${naming.map((i) => `${incidentId(i.number)} ${escapeMrkdwn(i.title)}`).join(' · ')}`,
      );
    }
    return lines;
  } catch (error) {
    services.logger.warn({ err: error }, 'could not read the operations and incidents for /deploy status');
    return ['(the audit trail could not be read just now)'];
  }
}

/**
 * A roll-out in progress on the service, from Postgres: its revision, step n of m and percent, its
 * state, when the next step is due, who is still needed for "Promote now", and a link to its card.
 * Null when none runs.
 */
export async function rolloutInProgress(
  services: Pick<Services, 'repos' | 'logger' | 'config'>,
  service: ServiceConfig,
): Promise<string | null> {
  try {
    const active = await services.repos.operations.listActive({
      service: service.name,
      environment: service.environment,
    });
    const op = active.find((o) => o.kind === 'rollout' && (o.state === 'running' || o.state === 'verifying'));
    const run = op ? await services.repos.rollouts.get(op.id) : null;
    if (!op || !run) return null;
    const plan = rolloutPlan(op);
    const parts = [
      `\`${escapeMrkdwn(plan.toRevision)}\` (from \`${escapeMrkdwn(plan.fromRevision)}\`)`,
      progressText(op, run),
      RUN_LABEL[run.state],
    ];
    const next = plan.steps[run.stepIndex + 1];
    if (run.state === 'running' && run.nextStepAt && next !== undefined) {
      parts.push(`next step ${next} % ${slackDate(run.nextStepAt, '{date_short_pretty} {time_secs}')}`);
    }
    parts.push(`asked by <@${op.requestedBy}>`, cardLink(op));
    const promotion = promotionLine(run, services.config.approvers);
    return `*Roll-out in progress:* ${parts.join(' · ')}${promotion ? `\n${promotion}` : ''}`;
  } catch (error) {
    services.logger.warn({ err: error }, 'could not read the roll-out in progress for /deploy status');
    return '*Roll-out in progress:* (could not be read just now)';
  }
}

/** What the platform reports, with the last operations and incidents; plain words when it cannot be read. */
export async function platformStatusText(services: Services, service: ServiceConfig): Promise<string> {
  const platform = platformNames[service.platform.kind];
  let status: PlatformStatus;
  try {
    status = await within(
      services.platforms.for(service).then((p) => p.status()),
      STATUS_DEADLINE_MS,
    );
  } catch (error) {
    if (error instanceof StatusDeadline) {
      const seconds = STATUS_DEADLINE_MS / 1000;
      return statusTimedOut({ service: escapeMrkdwn(service.name), platform, seconds });
    }
    if (error instanceof PlatformError) {
      services.logger.warn({ code: error.code, service: service.name }, error.message);
      return statusFailed(escapeMrkdwn(error.message));
    }
    throw error;
  }
  const traffic = status.traffic?.map((t) => `${t.revision} ${t.percent}%`).join(', ');
  const count = (n: number | undefined) => (n === undefined ? '?' : String(n));
  return [
    statusHeadline({
      ready: status.ready,
      service: escapeMrkdwn(service.name),
      environment: escapeMrkdwn(service.environment),
      platform,
      target: escapeMrkdwn(status.target),
      reason: status.reason === undefined ? undefined : escapeMrkdwn(status.reason),
    }),
    statusDetails({
      revision: escapeMrkdwn(status.revision ?? 'unknown'),
      image: escapeMrkdwn(status.image ?? 'unknown'),
      traffic: traffic ? escapeMrkdwn(traffic) : undefined,
      replicas: `${count(status.replicas.desired)} desired, ${count(status.replicas.ready)} ready`,
      maintenance: status.maintenance,
    }),
    ...(await recentAndIncidents(services, service.name, service.environment)),
  ].join('\n');
}

/** One line on the service's health checks: overall status and the checks that are not healthy. */
export async function healthSummary(services: Services, service: ServiceConfig): Promise<string> {
  if (service.healthChecks.length === 0) return '*Health:* no health checks configured';
  try {
    const report = await within(
      services.health.checkService(service.name, service.environment),
      STATUS_HEALTH_DEADLINE_MS,
    );
    const healthy = report.results.filter((r) => r.status === 'healthy').length;
    const failing = report.results
      .filter((r) => r.status !== 'healthy')
      .map((r) => `${escapeMrkdwn(r.name)} ${r.status}${r.reason ? ` (${escapeMrkdwn(r.reason)})` : ''}`);
    return `*Health:* ${statusEmoji(report.status)} ${report.status}, ${healthy}/${report.results.length} checks healthy${failing.length > 0 ? `: ${failing.join('; ')}` : ''}`;
  } catch (error) {
    if (error instanceof StatusDeadline) {
      return `*Health:* :warning: the health checks did not answer within ${STATUS_HEALTH_DEADLINE_MS / 1000} s`;
    }
    services.logger.warn({ err: error, service: service.name }, 'health summary for /deploy status failed');
    return `*Health:* :warning: could not be checked just now${unavailableText(error) ? ` (${unavailableText(error)})` : ''}`;
  }
}

export const HEALTH_PENDING = '*Health:* :hourglass_flowing_sand: checking…';

/** A status answer, with the "Post to channel" button when it is the final one. */
export function statusReply(
  text: string,
  service: ServiceConfig,
  options: { button: boolean; note?: string },
): Reply {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }];
  if (options.note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: options.note }] });
  if (options.button) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: POST_DEPLOY_STATUS_ACTION,
          text: { type: 'plain_text', text: 'Post to channel' },
          value: `${service.name}/${service.environment}`,
        },
      ],
    });
  }
  return { text, blocks };
}
