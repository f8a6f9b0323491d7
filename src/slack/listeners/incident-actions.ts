/**
 * The headline's buttons (Post update, Change severity, Assign role, Resolve, Reopen) and the
 * incident modals' submissions. Run health check is registered elsewhere.
 */
import type { AckFn, App, ViewResponseAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { alreadyDeclared, declaredReply } from '../../../templates/incident.ts';
import { parseStatus } from '../../incidents/status.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { type Incident, incidentId } from '../../store/repositories/incidents.ts';
import { CREATE_CHANNEL, DECLARE_FIELDS } from '../blocks/incident-declare-modal.ts';
import { INCIDENT_ACTIONS } from '../blocks/incident-headline.ts';
import { buildResolveModal, RESOLVE_FIELDS } from '../blocks/incident-resolve-modal.ts';
import { buildRoleModal, ROLE_FIELDS } from '../blocks/incident-role-modal.ts';
import { buildSeverityModal, SEVERITY_FIELDS } from '../blocks/incident-severity-modal.ts';
import { buildUpdateModal, UPDATE_FIELDS } from '../blocks/incident-update-modal.ts';
import { UserInputError } from '../errors.ts';
import {
  asUserErrors,
  declareFlow,
  outcomeText,
  reopenFlow,
  resolveFlow,
  roleFlow,
  severityFlow,
  updateFlow,
} from '../incidents/flows.ts';
import { type IncidentSlackContext, incidentService, tellUser } from '../incidents/incident-slack.ts';
import { decodeMetadata, INCIDENT_VIEWS, type ModalMetadata, ModalValues } from '../incidents/modal-state.ts';
import type { SlackStepFailure } from '../incidents/slack-failure.ts';
import { unavailableText } from '../unavailable.ts';

/** A repeated submission of one modal within this long is ignored (double submit, Slack retry). */
const SUBMISSION_DEDUPE_MS = 24 * 3_600_000;

const buttonBody = z.object({
  trigger_id: z.string(),
  user: z.object({ id: z.string() }),
  actions: z.array(z.object({ value: z.string().optional() })).min(1),
  channel: z.object({ id: z.string() }).optional(),
});

const viewBody = z.object({
  user: z.object({ id: z.string() }),
  view: z.object({
    id: z.string(),
    private_metadata: z.string().optional(),
    state: z.object({ values: z.unknown() }),
  }),
});

interface Who {
  userId: string;
  channelId: string | undefined;
}

export function registerIncidentActions(app: App, services: Services): void {
  const context = (client: WebClient, logger: Logger): IncidentSlackContext => ({ client, services, logger });

  /** Runs a button's work: the incident by the button's value, user errors told privately. */
  const onButton = (
    actionId: string,
    work: (args: {
      incident: Incident;
      who: Who;
      triggerId: string;
      ctx: IncidentSlackContext;
    }) => Promise<void>,
  ) => {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const parsed = buttonBody.parse(body);
      const who: Who = { userId: parsed.user.id, channelId: parsed.channel?.id };
      const logger = services.logger.child({ action: actionId, user: who.userId });
      const ctx = context(client, logger);
      await reportErrors(ctx, who, async () => {
        const number = Number(parsed.actions[0]?.value);
        if (!Number.isInteger(number) || number <= 0)
          throw new Error(`button ${actionId} has no incident number`);
        const incident = await asUserErrors(() => incidentService(services).get(number));
        await work({ incident, who, triggerId: parsed.trigger_id, ctx });
      });
    });
  };

  const metadataFor = (incident: Incident, who: Who): ModalMetadata => ({
    n: incident.number,
    ...(who.channelId ? { c: who.channelId } : {}),
  });

  onButton(INCIDENT_ACTIONS.postUpdate, async ({ incident, who, triggerId, ctx }) => {
    assertOpen(incident);
    const cadenceMs = incidentService(services).severity(incident.severity).updateCadence;
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildUpdateModal({ incident, cadenceMs, metadata: metadataFor(incident, who) }),
    });
  });
  onButton(INCIDENT_ACTIONS.changeSeverity, async ({ incident, who, triggerId, ctx }) => {
    assertOpen(incident);
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildSeverityModal({
        incident,
        severities: services.config.severities,
        metadata: metadataFor(incident, who),
      }),
    });
  });
  onButton(INCIDENT_ACTIONS.assignRole, async ({ incident, who, triggerId, ctx }) => {
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildRoleModal({
        incident,
        roles: services.config.incidents.roles,
        metadata: metadataFor(incident, who),
      }),
    });
  });
  onButton(INCIDENT_ACTIONS.resolve, async ({ incident, who, triggerId, ctx }) => {
    assertOpen(incident);
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildResolveModal({ incident, metadata: metadataFor(incident, who) }),
    });
  });
  onButton(INCIDENT_ACTIONS.reopen, async ({ incident, who, ctx }) => {
    const outcome = await reopenFlow(ctx, incident.number, who.userId);
    if (outcome.failures.length > 0)
      await tellUser(ctx, who, outcomeText(outcome.incident, '', outcome.failures));
  });

  /**
   * Runs a modal submission: validates (errors shown in the modal), claims the submission once,
   * closes the modal, then does the work and tells the user privately about any problem.
   */
  const onSubmit = (
    callbackId: string,
    work: (args: {
      values: ModalValues;
      metadata: ModalMetadata;
      who: Who;
      viewId: string;
      ctx: IncidentSlackContext;
      ack: AckFn<ViewResponseAction | undefined>;
    }) => Promise<void>,
  ) => {
    app.view(callbackId, async ({ ack, body, client }) => {
      const parsed = viewBody.parse(body);
      const metadata = decodeMetadata(parsed.view.private_metadata);
      const who: Who = { userId: parsed.user.id, channelId: metadata.c };
      const logger = services.logger.child({ view: callbackId, user: who.userId });
      const ctx = context(client, logger);
      const values = new ModalValues(parsed.view.state.values);
      await work({
        values,
        metadata,
        who,
        viewId: parsed.view.id,
        ctx,
        ack: ack as AckFn<ViewResponseAction | undefined>,
      });
    });
  };

  /**
   * Closes the modal once per submission; false for a repeat (nothing more to do). When the claim
   * cannot be made (Redis or the database unreachable), the modal stays open with the reason on
   * `field`, so the user can submit again later, and false is returned.
   */
  const claim = async (
    viewId: string,
    ack: AckFn<ViewResponseAction | undefined>,
    field: string,
    logger: Logger,
  ): Promise<boolean> => {
    let first: boolean;
    try {
      first = await services.coordination.claimOnce(
        `incident:view-submission:${viewId}`,
        SUBMISSION_DEDUPE_MS,
      );
    } catch (error) {
      const unavailable = unavailableText(error);
      if (!unavailable) throw error;
      logger.error({ err: error }, 'modal submission refused: a dependency is unreachable');
      await ack({ response_action: 'errors', errors: { [field]: unavailable } });
      return false;
    }
    await ack();
    return first;
  };

  const incidentOf = (metadata: ModalMetadata): number => {
    if (metadata.n === undefined)
      throw new Error('incident modal without an incident number in private_metadata');
    return metadata.n;
  };

  onSubmit(INCIDENT_VIEWS.declare, async ({ values, who, viewId, ctx, ack }) => {
    const title = values.text(DECLARE_FIELDS.title);
    const severity = values.selected(DECLARE_FIELDS.severity);
    if (title === '' || !severity) {
      await ack({
        response_action: 'errors',
        errors:
          title === ''
            ? { [DECLARE_FIELDS.title]: 'Give the incident a title.' }
            : { [DECLARE_FIELDS.severity]: 'Pick a severity.' },
      });
      return;
    }
    // No claimOnce here: a repeat of this submission (same view, so same dedupe key) finishes whatever
    // setup the first one left undone (say it was cut short by a restart) and says where it lives.
    await ack();
    await reportErrors(ctx, who, async () => {
      const outcome = await declareFlow(ctx, {
        title,
        severity,
        declaredBy: who.userId,
        commander: values.user(DECLARE_FIELDS.commander) ?? who.userId,
        affectedServices: values.selectedMany(DECLARE_FIELDS.services),
        summary: values.text(DECLARE_FIELDS.summary),
        dedupeKey: `declare:view:${viewId}`,
        createChannel: values.selectedMany(DECLARE_FIELDS.channel).includes(CREATE_CHANNEL),
        replyChannelId: who.channelId,
      });
      const id = incidentId(outcome.incident.number);
      const { where } = outcome;
      await tellUser(
        ctx,
        who,
        outcomeText(
          outcome.incident,
          outcome.created ? declaredReply({ id, where }) : alreadyDeclared({ id, where }),
          outcome.failures,
        ),
      );
    });
  });

  onSubmit(INCIDENT_VIEWS.update, async ({ values, metadata, who, viewId, ctx, ack }) => {
    const status = parseStatus(values.selected(UPDATE_FIELDS.status) ?? '');
    if (!status || status === 'resolved') {
      await ack({ response_action: 'errors', errors: { [UPDATE_FIELDS.status]: 'Pick a status.' } });
      return;
    }
    if (!(await claim(viewId, ack, UPDATE_FIELDS.status, ctx.logger))) return;
    await reportErrors(ctx, who, async () => {
      const inMs = Number(values.selected(UPDATE_FIELDS.nextUpdate));
      const outcome = await updateFlow(ctx, incidentOf(metadata), {
        actor: who.userId,
        status,
        impact: values.text(UPDATE_FIELDS.impact),
        nextStep: values.text(UPDATE_FIELDS.nextStep),
        ...(Number.isFinite(inMs) && inMs > 0 ? { nextUpdateInMs: inMs } : {}),
      });
      await tellAboutFailures(ctx, who, outcome.incident, outcome.failures);
    });
  });

  onSubmit(INCIDENT_VIEWS.severity, async ({ values, metadata, who, viewId, ctx, ack }) => {
    const severity = values.selected(SEVERITY_FIELDS.severity);
    const reason = values.text(SEVERITY_FIELDS.reason);
    if (!severity || reason === '') {
      await ack({
        response_action: 'errors',
        errors: !severity
          ? { [SEVERITY_FIELDS.severity]: 'Pick a severity.' }
          : { [SEVERITY_FIELDS.reason]: 'Give a reason.' },
      });
      return;
    }
    if (!(await claim(viewId, ack, SEVERITY_FIELDS.severity, ctx.logger))) return;
    await reportErrors(ctx, who, async () => {
      const outcome = await severityFlow(ctx, incidentOf(metadata), { actor: who.userId, severity, reason });
      await tellAboutFailures(ctx, who, outcome.incident, outcome.failures);
    });
  });

  onSubmit(INCIDENT_VIEWS.role, async ({ values, metadata, who, viewId, ctx, ack }) => {
    const role = values.selected(ROLE_FIELDS.role);
    const userId = values.user(ROLE_FIELDS.user);
    if (!role || !userId) {
      await ack({
        response_action: 'errors',
        errors: !role ? { [ROLE_FIELDS.role]: 'Pick a role.' } : { [ROLE_FIELDS.user]: 'Pick a person.' },
      });
      return;
    }
    if (!(await claim(viewId, ack, ROLE_FIELDS.role, ctx.logger))) return;
    await reportErrors(ctx, who, async () => {
      const outcome = await roleFlow(ctx, incidentOf(metadata), { actor: who.userId, role, userId });
      await tellAboutFailures(ctx, who, outcome.incident, outcome.failures);
    });
  });

  onSubmit(INCIDENT_VIEWS.resolve, async ({ values, metadata, who, viewId, ctx, ack }) => {
    const resolution = values.text(RESOLVE_FIELDS.resolution);
    if (resolution === '') {
      await ack({
        response_action: 'errors',
        errors: { [RESOLVE_FIELDS.resolution]: 'Say how it was resolved.' },
      });
      return;
    }
    if (!(await claim(viewId, ack, RESOLVE_FIELDS.resolution, ctx.logger))) return;
    await reportErrors(ctx, who, async () => {
      const outcome = await resolveFlow(ctx, incidentOf(metadata), {
        actor: who.userId,
        resolution,
        rootCause: values.text(RESOLVE_FIELDS.rootCause),
      });
      await tellAboutFailures(ctx, who, outcome.incident, outcome.failures);
    });
  });
}

function assertOpen(incident: Incident): void {
  if (incident.status === 'resolved') {
    const id = incidentId(incident.number);
    throw new UserInputError(`${id} is resolved.`, `Reopen it first: \`/incident reopen ${id}\`.`);
  }
}

async function tellAboutFailures(
  ctx: IncidentSlackContext,
  who: Who,
  incident: Incident,
  failures: readonly SlackStepFailure[],
): Promise<void> {
  if (failures.length > 0) await tellUser(ctx, who, outcomeText(incident, '', failures).trim());
}

/** User errors are told privately with their hint; other errors are logged and reported plainly. */
async function reportErrors(ctx: IncidentSlackContext, who: Who, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof UserInputError) {
      await tellUser(ctx, who, `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`);
      return;
    }
    ctx.logger.error({ err: error }, 'incident action failed');
    await tellUser(
      ctx,
      who,
      unavailableText(error) ??
        ':x: Something went wrong with that incident action. It has been logged; try again, and if it keeps failing tell the bot operators.',
    );
  }
}
