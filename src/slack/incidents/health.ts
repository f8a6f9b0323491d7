/**
 * The health of an incident's affected services, posted where the incident lives and recorded on
 * its timeline. Used by `/incident health` and the headline's "Run health check" button.
 */
import type { WebClient } from '@slack/web-api';
import {
  incidentHealthTitle,
  incidentNoChecks,
  incidentNoServices,
  incidentNoServicesHint,
  incidentNotConfigured,
} from '../../../templates/health.ts';
import type { RunbookConfig, ServiceConfig } from '../../config/schema.ts';
import type { HealthService } from '../../health/service.ts';
import { summarizeReport } from '../../health/summary.ts';
import { type HealthReport, type HealthStatus, worstStatus } from '../../health/types.ts';
import type { Services } from '../../services.ts';
import { type Incident, incidentId } from '../../store/repositories/incidents.ts';
import type { TimelineEvent } from '../../store/repositories/timeline.ts';
import { buildMultiReport, statusEmoji } from '../health/blocks/report.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';

export interface AffectedServicesHealth {
  reports: HealthReport[];
  /** Affected services runbook.yml does not know. */
  notConfigured: string[];
  /** Configured, but without health checks ("name (environment)"). */
  noChecks: string[];
}

/**
 * Checks the named services. A name configured in several environments means its production
 * environment when there is one, else all of them.
 */
export async function checkAffectedServices(
  health: HealthService,
  config: RunbookConfig,
  names: readonly string[],
): Promise<AffectedServicesHealth> {
  const notConfigured: string[] = [];
  const noChecks: string[] = [];
  const targets: ServiceConfig[] = [];
  for (const name of new Set(names)) {
    const configured = config.services.filter((s) => s.name === name);
    if (configured.length === 0) {
      notConfigured.push(name);
      continue;
    }
    const production = configured.filter((s) => s.environment === 'production');
    for (const service of production.length > 0 ? production : configured) {
      if (service.healthChecks.length === 0) noChecks.push(`${service.name} (${service.environment})`);
      else targets.push(service);
    }
  }
  const reports = await Promise.all(targets.map((s) => health.checkService(s.name, s.environment)));
  return { reports, notConfigured, noChecks };
}

/** Throws UserInputError (saying how to add them) when the incident names no affected services. */
export function requireAffectedServices(incident: Incident): void {
  const id = incidentId(incident.number);
  if (incident.affectedServices.length === 0)
    throw new UserInputError(incidentNoServices(id), incidentNoServicesHint(id));
}

export interface IncidentHealthResult extends AffectedServicesHealth {
  status: HealthStatus;
  /** Where the result was posted. */
  message: { channelId: string; ts: string };
  event: TimelineEvent;
}

/**
 * Checks the incident's affected services, posts the result in the incident's channel (or its
 * announcement thread) and adds a `health_check` timeline event with the summary.
 * Throws UserInputError when the incident has no affected services or none can be checked.
 */
export async function runIncidentHealthCheck(
  services: Services,
  client: WebClient,
  incident: Incident,
  actorUserId: string,
): Promise<IncidentHealthResult> {
  const id = incidentId(incident.number);
  requireAffectedServices(incident);
  const where = incident.channelId
    ? { channel: incident.channelId }
    : incident.announcement
      ? { channel: incident.announcement.channelId, thread_ts: incident.announcement.ts }
      : undefined;
  if (!where)
    throw new Error(`${id} has neither a channel nor an announcement thread to post the health check in`);

  const checked = await checkAffectedServices(services.health, services.config, incident.affectedServices);
  const trailer = [
    ...(checked.notConfigured.length > 0
      ? [incidentNotConfigured(checked.notConfigured.map(escapeMrkdwn).join(', '))]
      : []),
    ...(checked.noChecks.length > 0 ? [incidentNoChecks(checked.noChecks.map(escapeMrkdwn).join(', '))] : []),
  ];
  if (checked.reports.length === 0)
    throw new UserInputError(
      `None of ${id}'s affected services (${escapeMrkdwn(incident.affectedServices.join(', '))}) can be checked.`,
      trailer.join('\n'),
    );

  const status = worstStatus(checked.reports.map((r) => r.status));
  const headline = incidentHealthTitle({
    id,
    emoji: statusEmoji(status),
    status,
    actor: `<@${actorUserId}>`,
  });
  const reply = buildMultiReport(checked.reports, { headline, trailer });
  const posted = await client.chat.postMessage({
    ...where,
    text: reply.text,
    ...(reply.blocks ? { blocks: reply.blocks } : {}),
  });
  if (!posted.ts) throw new Error('chat.postMessage answered without a ts');

  const summaries = checked.reports.map(summarizeReport);
  const { event } = await services.repos.timeline.add({
    incidentNumber: incident.number,
    actor: actorUserId,
    kind: 'health_check',
    text: `Health check: ${status}. ${summaries.join('; ')}`,
    data: {
      status,
      services: checked.reports.map((r) => ({
        service: r.service ?? null,
        environment: r.environment ?? null,
        status: r.status,
        durationMs: Math.round(r.durationMs),
      })),
      notConfigured: checked.notConfigured,
      noChecks: checked.noChecks,
      message: { channelId: where.channel, ts: posted.ts },
    },
  });
  return { ...checked, status, message: { channelId: where.channel, ts: posted.ts }, event };
}
