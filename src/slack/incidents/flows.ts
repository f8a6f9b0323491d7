/**
 * The incident flows as Slack runs them: the domain action (one transaction, timeline recorded),
 * then the messages, headline and topic. Shared by slash commands and modal submissions.
 */
import { archiveNotice, slackStepsFailed } from '../../../templates/incident.ts';
import { recentChanges } from '../../deploy/recent-changes.ts';
import { type ClaimedRun, FlowClaimLostError } from '../../flows/recorded-flow.ts';
import {
  IncidentInputError,
  IncidentNotFoundError,
  IncidentStateError,
  UnknownRoleError,
} from '../../incidents/errors.ts';
import { type Incident, incidentId } from '../../incidents/incident.ts';
import {
  type DeclareInput,
  INCIDENT_SETUP_FLOW,
  type UpdateInput,
} from '../../incidents/incident-service.ts';
import { findSeverity, UnknownSeverityError } from '../../incidents/severity.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn, slackDate } from '../kit/escape.ts';
import { type SlackStepFailure, SlackSteps } from '../kit/slack-steps.ts';
import {
  type IncidentSetupInput,
  type IncidentSlackContext,
  incidentLink,
  postToIncident,
  refreshIncidentInSlack,
  type SlackOutcome,
  setUpIncidentInSlack,
} from './incident-slack.ts';
import {
  reopenedMessage,
  resolutionMessage,
  roleMessage,
  severityMessage,
  updateMessage,
} from './messages.ts';
import { draftAfterResolve } from './postmortem.ts';

/**
 * Domain refusals become private answers with what to do; anything else propagates. Their messages
 * quote what the user typed ("<!everyone>" is not an incident role) and carry no markup of their
 * own, so they are escaped whole.
 */
export async function asUserErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (
      error instanceof UnknownSeverityError ||
      error instanceof UnknownRoleError ||
      error instanceof IncidentStateError ||
      error instanceof IncidentInputError
    ) {
      throw new UserInputError(escapeMrkdwn(error.message));
    }
    if (error instanceof IncidentNotFoundError) {
      throw new UserInputError(escapeMrkdwn(error.message), '`/incident list` shows the open ones.');
    }
    throw error;
  }
}

/** The private answer after a flow: what was done, and what could not be done in Slack. */
export function outcomeText(incident: Incident, done: string, failures: readonly SlackStepFailure[]): string {
  return failures.length === 0
    ? done
    : `${done}\n${slackStepsFailed({ id: incidentId(incident.number), failures })}`;
}

export interface DeclareFlowOutcome extends SlackOutcome {
  created: boolean;
  /** Where the incident lives, as a link for the answer (channel, or permalink to its thread). */
  where: string;
}

/** A repeat of a declare waits this long for another worker that is still setting the incident up. */
const REPEAT_WAIT_MS = 8_000;

/**
 * Declares (one transaction, with the run of its Slack setup) and sets the incident up in Slack.
 * A repeat of the same request (same dedupe key: a double submit, a retry after a crash) declares
 * nothing new: it finishes whatever setup steps are missing, then says where the incident lives.
 */
export async function declareFlow(
  ctx: IncidentSlackContext,
  input: DeclareInput & { createChannel: boolean; replyChannelId?: string | undefined },
): Promise<DeclareFlowOutcome> {
  const { flows } = ctx.services;
  const { createChannel, replyChannelId, ...declare } = input;
  const setupInput: IncidentSetupInput = { createChannel, ...(replyChannelId ? { replyChannelId } : {}) };
  const claim = flows.newClaim();
  const { incident, created, setup } = await asUserErrors(() =>
    ctx.services.incidents.declare({ ...declare, setup: { input: setupInput, claim } }),
  );
  ctx.services.logger.info(
    { incident: incident.number, created, severity: incident.severity, actor: input.declaredBy },
    created ? 'incident declared' : 'repeat declare: the incident exists already',
  );
  let outcome: SlackOutcome;
  if (setup) {
    outcome = await runIncidentSetup(ctx, flows.claimed(setup, claim.owner));
  } else {
    const run = await flows.claimOrWait(INCIDENT_SETUP_FLOW, String(incident.number), REPEAT_WAIT_MS);
    if (run) ctx.logger.info({ incident: incident.number }, 'repeat declare: finishing the Slack setup');
    outcome = run
      ? await runIncidentSetup(ctx, run)
      : { incident: (await ctx.services.repos.incidents.get(incident.number)) ?? incident, failures: [] };
  }
  if (created && incident.affectedServices.length > 0) {
    outcome = {
      ...outcome,
      failures: [...outcome.failures, ...(await showRecentChanges(ctx, outcome.incident))],
    };
  }
  return { ...outcome, created, where: await incidentLink(ctx, outcome.incident) };
}

/**
 * Deploy-aware incidents: the affected services' changes in the 24 hours before (the bot's
 * operations, the platform's new revisions within 2 s) go on the timeline and the headline, with a
 * "Roll back" button each. Whatever fails here is logged; the incident stands.
 */
async function showRecentChanges(ctx: IncidentSlackContext, incident: Incident): Promise<SlackStepFailure[]> {
  const { services } = ctx;
  try {
    const configured = services.config.services.filter((s) => incident.affectedServices.includes(s.name));
    const changed = await recentChanges({
      services: configured,
      operations: services.repos.operations,
      platformFor: (service) => services.platforms.for(service),
      clock: services.clock,
    });
    if (changed.length === 0) return [];
    const text = `Changed in the 24 h before: ${changed
      .map((s) => `${s.service} (${s.environment}): ${s.changes.map((c) => c.what).join('; ')}`)
      .join(' · ')}`;
    await services.incidents.recordRecentChanges(incident.number, {
      text: text.slice(0, 3_000),
      services: changed.map((s) => ({ ...s })),
    });
    const latest = (await services.repos.incidents.get(incident.number)) ?? incident;
    return await refreshIncidentInSlack(ctx, latest);
  } catch (error) {
    ctx.logger.warn({ err: error, incident: incident.number }, 'could not show the recent changes');
    return [];
  }
}

/**
 * Runs an incident's Slack setup (or finishes one cut short) under the run's claim, known to this
 * process while it runs. A claim taken over by another worker ends it quietly (that worker finishes).
 */
export function runIncidentSetup(ctx: IncidentSlackContext, run: ClaimedRun): Promise<SlackOutcome> {
  const number = Number(run.subject);
  const work = (async (): Promise<SlackOutcome> => {
    try {
      return await setUpIncidentInSlack(ctx, run);
    } catch (error) {
      if (!(error instanceof FlowClaimLostError)) {
        await run.release().catch(() => undefined);
        throw error;
      }
      ctx.logger.warn({ incident: number }, error.message);
      const incident = await ctx.services.repos.incidents.get(number);
      if (!incident) throw error;
      return { incident, failures: [] };
    }
  })();
  return ctx.services.flows.track(INCIDENT_SETUP_FLOW, run.subject, work);
}

async function announce(
  ctx: IncidentSlackContext,
  incident: Incident,
  message: Parameters<typeof postToIncident>[2],
) {
  const posted = await postToIncident(ctx, incident, message);
  const refreshed = await refreshIncidentInSlack(ctx, incident);
  return [...posted, ...refreshed];
}

export async function updateFlow(
  ctx: IncidentSlackContext,
  number: number,
  input: UpdateInput,
): Promise<SlackOutcome> {
  const { incident, nextStep } = await asUserErrors(() => ctx.services.incidents.postUpdate(number, input));
  const roles = await ctx.services.repos.roles.list(number);
  return { incident, failures: await announce(ctx, incident, updateMessage(incident, roles, nextStep)) };
}

export async function severityFlow(
  ctx: IncidentSlackContext,
  number: number,
  input: { actor: string; severity: string; reason: string },
): Promise<SlackOutcome & { changed: boolean }> {
  const outcome = await asUserErrors(() => ctx.services.incidents.changeSeverity(number, input));
  if (!outcome.changed) return { incident: outcome.incident, failures: [], changed: false };
  const message = severityMessage(outcome.incident, {
    from: outcome.from,
    actor: input.actor,
    reason: input.reason,
  });
  return {
    incident: outcome.incident,
    failures: await announce(ctx, outcome.incident, message),
    changed: true,
  };
}

export async function roleFlow(
  ctx: IncidentSlackContext,
  number: number,
  input: { actor: string; role: string; userId: string },
): Promise<SlackOutcome & { role: string; changed: boolean }> {
  const outcome = await asUserErrors(() => ctx.services.incidents.assignRole(number, input));
  if (!outcome.changed)
    return { incident: outcome.incident, failures: [], role: outcome.role, changed: false };
  const failures: SlackStepFailure[] = [];
  if (outcome.incident.channelId) {
    const channel = outcome.incident.channelId;
    try {
      await ctx.client.conversations.invite({ channel, users: input.userId, force: true });
    } catch (error) {
      ctx.logger.info({ err: error }, 'could not invite the new role holder (maybe already a member)');
    }
  }
  const message = roleMessage(outcome.incident, {
    role: outcome.role,
    userId: input.userId,
    actor: input.actor,
  });
  failures.push(...(await announce(ctx, outcome.incident, message)));
  return { incident: outcome.incident, failures, role: outcome.role, changed: true };
}

export async function resolveFlow(
  ctx: IncidentSlackContext,
  number: number,
  input: { actor: string; resolution: string; rootCause?: string | null },
): Promise<SlackOutcome> {
  const { incident, archive, postmortem } = await asUserErrors(() =>
    ctx.services.incidents.resolve(number, input),
  );
  const severity = findSeverity(incident.severity, ctx.services.config.severities);
  const failures = await announce(ctx, incident, resolutionMessage(incident, severity, postmortem?.dueAt));
  if (archive && incident.channelId) {
    const channel = incident.channelId;
    const when = slackDate(archive.dueAt);
    const steps = new SlackSteps(ctx.logger);
    await steps.run('post the archive notice', () =>
      ctx.client.chat.postMessage({ channel, text: archiveNotice({ id: incidentId(number), when }) }),
    );
    failures.push(...steps.failures);
  }
  // The severity requires a post-mortem: its draft, from the record as resolved.
  if (postmortem) failures.push(...(await draftAfterResolve(ctx, number)));
  return { incident, failures };
}

export async function reopenFlow(
  ctx: IncidentSlackContext,
  number: number,
  actor: string,
): Promise<SlackOutcome> {
  const incident = await asUserErrors(() => ctx.services.incidents.reopen(number, { actor }));
  return { incident, failures: await announce(ctx, incident, reopenedMessage(incident, actor)) };
}
