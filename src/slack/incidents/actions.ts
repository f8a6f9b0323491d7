/**
 * The headline's buttons (Post update, Change severity, Assign role, Resolve, Reopen) and the
 * incident modals' submissions. Run health check is registered elsewhere.
 */
import type { AckFn, App, RespondFn, ViewResponseAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { alreadyDeclared, declaredReply } from '../../../templates/incident.ts';
import { type Incident, incidentId } from '../../incidents/incident.ts';
import { parseStatus } from '../../incidents/status.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { outOfDate, UserInputError } from '../kit/errors.ts';
import { incidentNumberValue } from '../kit/input.ts';
import { claimOnce, clickKey, DOUBLE_CLICK_MS, runOnce, VIEW_SUBMISSION_TTL_MS } from '../kit/once.ts';
import type { SlackStepFailure } from '../kit/slack-steps.ts';
import { unavailableText } from '../kit/unavailable.ts';
import { CREATE_CHANNEL, DECLARE_FIELDS } from './blocks/declare-modal.ts';
import { INCIDENT_ACTIONS } from './blocks/headline.ts';
import { buildResolveModal, RESOLVE_FIELDS } from './blocks/resolve-modal.ts';
import { buildRoleModal, ROLE_FIELDS } from './blocks/role-modal.ts';
import { buildSeverityModal, SEVERITY_FIELDS } from './blocks/severity-modal.ts';
import { buildUpdateModal, UPDATE_FIELDS } from './blocks/update-modal.ts';
import { acknowledgeFlow } from './escalation.ts';
import {
  asUserErrors,
  declareFlow,
  outcomeText,
  reopenFlow,
  resolveFlow,
  roleFlow,
  severityFlow,
  updateFlow,
} from './flows.ts';
import { type IncidentSlackContext, tellUser } from './incident-slack.ts';
import { decodeMetadata, INCIDENT_VIEWS, type ModalMetadata, ModalValues } from './modal-state.ts';

/** The next update of a submitted update form: between a minute and a week. */
const NEXT_UPDATE_MIN_MS = 60_000;
const NEXT_UPDATE_MAX_MS = 7 * 24 * 3_600_000;

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

/** Who clicked or submitted, read on its own: told about an unreadable payload when known. */
const someone = z.object({
  user: z.object({ id: z.string() }),
  channel: z.object({ id: z.string() }).optional(),
});

/** The first input block of the submitted view, where an "out of date" error can be shown. */
const viewBlocks = z.object({
  view: z.object({
    blocks: z.array(z.object({ type: z.string(), block_id: z.string().optional() }).loose()),
  }),
});

const OUT_OF_DATE_FORM = outOfDate('form').message;

/** The answer to a submission the bot cannot read: the error under its first input, else close it. */
function outOfDateAnswer(body: unknown): ViewResponseAction {
  const blocks = viewBlocks.safeParse(body);
  const input = blocks.success
    ? blocks.data.view.blocks.find((b) => b.type === 'input' && b.block_id)
    : undefined;
  return input?.block_id
    ? { response_action: 'errors', errors: { [input.block_id]: OUT_OF_DATE_FORM } }
    : { response_action: 'clear' };
}

interface Who {
  userId: string;
  channelId: string | undefined;
}

export function registerIncidentActions(app: App, services: Services): void {
  const context = (client: WebClient, logger: Logger): IncidentSlackContext => ({ client, services, logger });

  /**
   * Runs a button's work: the incident by the button's value, user errors told privately. With
   * `once` (buttons that change something), a double click or one click reaching two replicas
   * runs once; buttons that only open a modal open it each time.
   */
  const onButton = (
    actionId: string,
    options: { once: boolean },
    work: (args: {
      incident: Incident;
      who: Who;
      triggerId: string;
      ctx: IncidentSlackContext;
    }) => Promise<void>,
  ) => {
    app.action(actionId, async ({ ack, body, client, respond }) => {
      await ack();
      const parsed = buttonBody.safeParse(body);
      if (!parsed.success) {
        await tellOutOfDate(context(client, services.logger.child({ action: actionId })), body, respond);
        return;
      }
      const who: Who = { userId: parsed.data.user.id, channelId: parsed.data.channel?.id };
      const logger = services.logger.child({ action: actionId, user: who.userId });
      const ctx = context(client, logger);
      await reportErrors(ctx, who, async () => {
        const number = incidentNumberValue.safeParse(parsed.data.actions[0]?.value);
        if (!number.success) {
          const value = parsed.data.actions[0]?.value?.slice(0, 100);
          logger.warn({ value }, 'incident button with an unreadable value');
          throw outOfDate('button');
        }
        const run = async (): Promise<void> => {
          const incident = await asUserErrors(() => services.incidents.get(number.data));
          await work({ incident, who, triggerId: parsed.data.trigger_id, ctx });
        };
        const key = options.once ? clickKey(body) : undefined;
        if (key === undefined) return run();
        if (!(await runOnce(services, key, 'button', DOUBLE_CLICK_MS, run)))
          logger.info('repeated click ignored');
      });
    });
  };

  const metadataFor = (incident: Incident, who: Who): ModalMetadata => ({
    n: incident.number,
    ...(who.channelId ? { c: who.channelId } : {}),
  });

  onButton(INCIDENT_ACTIONS.postUpdate, { once: false }, async ({ incident, who, triggerId, ctx }) => {
    assertOpen(incident);
    const cadenceMs = services.incidents.severity(incident.severity).updateCadence;
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildUpdateModal({ incident, cadenceMs, metadata: metadataFor(incident, who) }),
    });
  });
  onButton(INCIDENT_ACTIONS.changeSeverity, { once: false }, async ({ incident, who, triggerId, ctx }) => {
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
  onButton(INCIDENT_ACTIONS.assignRole, { once: false }, async ({ incident, who, triggerId, ctx }) => {
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildRoleModal({
        incident,
        roles: services.config.incidents.roles,
        metadata: metadataFor(incident, who),
      }),
    });
  });
  onButton(INCIDENT_ACTIONS.resolve, { once: false }, async ({ incident, who, triggerId, ctx }) => {
    assertOpen(incident);
    await ctx.client.views.open({
      trigger_id: triggerId,
      view: buildResolveModal({ incident, metadata: metadataFor(incident, who) }),
    });
  });
  onButton(INCIDENT_ACTIONS.acknowledge, { once: true }, async ({ incident, who, ctx }) => {
    const outcome = await acknowledgeFlow(ctx, incident.number, who.userId);
    const by = outcome.incident.acknowledgedBy;
    if (!outcome.changed && by)
      await tellUser(ctx, who, `${incidentId(incident.number)} was acknowledged by <@${by}> already.`);
    else if (outcome.failures.length > 0)
      await tellUser(ctx, who, outcomeText(outcome.incident, '', outcome.failures));
  });
  onButton(INCIDENT_ACTIONS.reopen, { once: true }, async ({ incident, who, ctx }) => {
    const outcome = await reopenFlow(ctx, incident.number, who.userId);
    if (outcome.failures.length > 0)
      await tellUser(ctx, who, outcomeText(outcome.incident, '', outcome.failures));
  });

  /**
   * Runs a modal submission: reads it without throwing (what the bot cannot read is answered "out
   * of date" in the modal, within the ack), validates (errors shown in the modal), then `claim`
   * closes the modal and claims the submission once, in Postgres, before the work.
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
    // Every incident modal but the declare form is about one incident.
    const needsIncident = callbackId !== INCIDENT_VIEWS.declare;
    app.view(callbackId, async ({ ack, body, client }) => {
      const answer = ack as AckFn<ViewResponseAction | undefined>;
      const parsed = viewBody.safeParse(body);
      const metadata = parsed.success ? decodeMetadata(parsed.data.view.private_metadata) : null;
      const values = parsed.success ? ModalValues.parse(parsed.data.view.state.values) : null;
      if (!parsed.success || !metadata || !values || (needsIncident && metadata.n === undefined)) {
        const outOfDateForm = outOfDateAnswer(body);
        await answer(outOfDateForm);
        const ctx = context(client, services.logger.child({ view: callbackId }));
        // Shown under the first input; with none to show it under, the modal closes and the user is told.
        if (outOfDateForm.response_action === 'clear') await tellOutOfDate(ctx, body, undefined, 'form');
        else ctx.logger.warn('form payload the bot cannot read: answered "out of date"');
        return;
      }
      const who: Who = { userId: parsed.data.user.id, channelId: metadata.c };
      const logger = services.logger.child({ view: callbackId, user: who.userId });
      const ctx = context(client, logger);
      await work({ values, metadata, who, viewId: parsed.data.view.id, ctx, ack: answer });
    });
  };

  /**
   * Closes the modal, then claims the submission in Postgres: false for a repeat (a double submit,
   * another replica), and when the claim could not be made (the user is told); nothing more to do.
   */
  const claim = async (
    viewId: string,
    ack: AckFn<ViewResponseAction | undefined>,
    ctx: IncidentSlackContext,
    who: Who,
  ): Promise<boolean> => {
    await ack();
    let first = false;
    await reportErrors(ctx, who, async () => {
      first = await claimOnce(services, `view:${viewId}`, 'view_submission', VIEW_SUBMISSION_TTL_MS);
      if (!first) ctx.logger.info('repeated submission of a modal ignored');
    });
    return first;
  };

  /** The incident of a submission that passed onSubmit's check. */
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
    const nextUpdate = values.selected(UPDATE_FIELDS.nextUpdate);
    const inMs = nextUpdate === undefined ? undefined : Number(nextUpdate);
    if (
      inMs !== undefined &&
      !(Number.isInteger(inMs) && inMs >= NEXT_UPDATE_MIN_MS && inMs <= NEXT_UPDATE_MAX_MS)
    ) {
      await ack({
        response_action: 'errors',
        errors: { [UPDATE_FIELDS.nextUpdate]: 'Pick when the next update is due.' },
      });
      return;
    }
    if (!(await claim(viewId, ack, ctx, who))) return;
    await reportErrors(ctx, who, async () => {
      const outcome = await updateFlow(ctx, incidentOf(metadata), {
        actor: who.userId,
        status,
        impact: values.text(UPDATE_FIELDS.impact),
        nextStep: values.text(UPDATE_FIELDS.nextStep),
        ...(inMs !== undefined ? { nextUpdateInMs: inMs } : {}),
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
    if (!(await claim(viewId, ack, ctx, who))) return;
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
    if (!(await claim(viewId, ack, ctx, who))) return;
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
    if (!(await claim(viewId, ack, ctx, who))) return;
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

/**
 * Tells whoever clicked or submitted something the bot cannot read that it is out of date: through
 * the response URL when Slack gave one, else privately in the channel or by DM.
 */
async function tellOutOfDate(
  ctx: IncidentSlackContext,
  body: unknown,
  respond: RespondFn | undefined,
  what: 'button' | 'form' = 'button',
): Promise<void> {
  const text = `:warning: ${outOfDate(what).message}`;
  ctx.logger.warn(`${what} payload the bot cannot read: answered "out of date"`);
  try {
    if (respond) {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
      return;
    }
    const who = someone.safeParse(body);
    if (who.success) {
      await tellUser(ctx, { userId: who.data.user.id, channelId: who.data.channel?.id }, text);
    }
  } catch (error) {
    ctx.logger.error({ err: error }, 'could not tell the user that a button or form is out of date');
  }
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
