/**
 * The health of an incident's affected services, posted where the incident lives and recorded on
 * its timeline. Used by `/incident health` and the headline's "Run health check" button. Which
 * environments are checked is the domain's (src/incidents/health-check.ts); this posts and renders.
 */
import type { WebClient } from '@slack/web-api';
import {
  incidentHealthTitle,
  incidentNoChecks,
  incidentNoServices,
  incidentNoServicesHint,
  incidentNotConfigured,
} from '../../../templates/health.ts';
import type { HealthStatus } from '../../health/types.ts';
import {
  type AffectedServicesHealth,
  checkAffectedServices,
  overallStatus,
} from '../../incidents/health-check.ts';
import { type Incident, incidentId } from '../../incidents/incident.ts';
import type { TimelineEvent } from '../../incidents/timeline.ts';
import type { Services } from '../../services.ts';
import { buildMultiReport, statusEmoji } from '../health/blocks/report.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';

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

  const status = overallStatus(checked);
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

  const message = { channelId: where.channel, ts: posted.ts };
  const { event } = await services.incidents.recordHealthCheck(incident.number, {
    actor: actorUserId,
    checked,
    message,
  });
  return { ...checked, status, message, event };
}
