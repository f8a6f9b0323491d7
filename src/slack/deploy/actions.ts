/** The buttons of a deploy operation's card: Confirm, Cancel, Roll back further. */
import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import type { DecisionOutcome, DeployService } from '../../deploy/deploy-service.ts';
import type { Services } from '../../services.ts';
import { buildDeclareModal } from '../incidents/blocks/declare-modal.ts';
import { assertDeclareAllowed } from '../incidents/command-helpers.ts';
import { answering } from '../kit/answering.ts';
import { outOfDate, UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import {
  APPROVE_DEPLOY_ACTION,
  CANCEL_DEPLOY_ACTION,
  CONFIRM_DEPLOY_ACTION,
  DECLARE_FROM_DEPLOY_ACTION,
  EMERGENCY_DEPLOY_ACTION,
  REJECT_DEPLOY_ACTION,
  ROLLBACK_FURTHER_ACTION,
  ROLLBACK_TO_ACTION,
} from './blocks/card.ts';
import { deployServiceFor } from './notifier.ts';
import { assertMayOperate } from './permissions.ts';
import { buildReasonModal, DEPLOY_VIEWS, registerReasonModals } from './reason-modal.ts';
import { askForOperation } from './request.ts';

const declareValue = z.object({
  s: z.string().max(200),
  e: z.string().max(200),
  w: z.string().max(300),
  c: z.array(z.string().max(300)).max(50),
});

function refusal(outcome: DecisionOutcome, verb: string): string | undefined {
  switch (outcome.kind) {
    case 'done':
      return undefined;
    case 'not_found':
      return ':warning: That operation no longer exists.';
    case 'not_requester':
      return `:no_entry: Only <@${outcome.operation.requestedBy}>, who asked for it, can ${verb} this operation.`;
    case 'moved':
      return `This operation has moved on: it is ${outcome.operation.state.replace('_', ' ')} now. Nothing was changed.`;
    case 'expired':
      return ':alarm_clock: This card has expired: nothing was changed. Ask again if it is still needed.';
    case 'locked':
      return 'This operation is being started already.';
    case 'blocked':
      return ':no_entry: It may not start now: the card says why and when it may. Nothing was changed.';
    case 'self_approval':
      return verb === 'reject'
        ? ':no_entry: You asked for this operation: Cancel withdraws it. Nothing was changed.'
        : ':no_entry: You asked for this operation: someone else must approve it. Nothing was changed.';
    case 'not_approver':
      return `:no_entry: Only approvers from ${outcome.groups.map((g) => `\`${escapeMrkdwn(g)}\``).join(', ')} can ${verb} this operation (the \`approvers\` of the config). Nothing was changed.`;
    case 'already_decided':
      return 'You have already decided on this operation; your decision stands.';
    case 'not_needed':
      return `:no_entry: Your approval would not count: what is still needed is an approver from ${outcome.missingGroups.map((g) => `\`${escapeMrkdwn(g)}\``).join(', ')}. Nothing was changed.`;
  }
}

/** A deploy button's work, answered privately (kit/answering.ts); a failure changed nothing. */
const answer = (
  services: Services,
  respond: RespondFn,
  what: string,
  work: () => Promise<string | undefined>,
): Promise<void> => answering(services.logger, respond, what, work, '; nothing was changed.');

/**
 * Confirm, Cancel, Approve: whoever may operate in the environment, then the one decision; a run it
 * starts is kept in flight (stopping waits for it).
 */
function registerDecision(
  app: App,
  services: Services,
  actionId: string,
  verb: string,
  what: string,
  decide: (deploy: DeployService, id: string, user: string) => Promise<DecisionOutcome>,
): void {
  app.action<BlockButtonAction>(actionId, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, what, async () => {
      const deploy = deployServiceFor(services, client);
      const id = action.value ?? '';
      const op = await deploy.get(id);
      if (op) await assertMayOperate(services, client, body.user.id, op.environment);
      const outcome = await decide(deploy, id, body.user.id);
      if (outcome.kind === 'done' && outcome.run)
        void services.inFlight.track('deploy operation', outcome.run);
      return refusal(outcome, verb);
    });
  });
}

export function registerDeployActions(app: App, services: Services): void {
  registerDecision(
    app,
    services,
    CONFIRM_DEPLOY_ACTION,
    'confirm',
    'confirming a deploy operation',
    (d, id, u) => d.confirm(id, u),
  );
  registerDecision(
    app,
    services,
    CANCEL_DEPLOY_ACTION,
    'cancel',
    'cancelling a deploy operation',
    (d, id, u) => d.cancel(id, u),
  );
  registerDecision(
    app,
    services,
    APPROVE_DEPLOY_ACTION,
    'approve',
    'approving a deploy operation',
    (d, id, u) => d.approve(id, u),
  );
  /** Reject: the reason modal, opened at once when the user may decide (an outsider is refused first). */
  app.action<BlockButtonAction>(REJECT_DEPLOY_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, 'rejecting a deploy operation', async () => {
      const deploy = deployServiceFor(services, client);
      const id = action.value ?? '';
      const op = await deploy.get(id);
      if (op) await assertMayOperate(services, client, body.user.id, op.environment);
      const refused = await deploy.mayDecide(id, body.user.id);
      if (refused) return refusal(refused, 'reject');
      await client.views.open({
        trigger_id: body.trigger_id,
        view: buildReasonModal(DEPLOY_VIEWS.reject, { o: id, c: body.channel?.id ?? '' }, op),
      });
      return undefined;
    });
  });
  /** Request as emergency: only the requester; a reason is required (a modal). */
  app.action<BlockButtonAction>(EMERGENCY_DEPLOY_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, 'requesting an emergency change', async () => {
      const deploy = deployServiceFor(services, client);
      const id = action.value ?? '';
      const op = await deploy.get(id);
      if (!op) return refusal({ kind: 'not_found' }, 'request');
      if (op.requestedBy !== body.user.id)
        return refusal({ kind: 'not_requester', operation: op }, 'request');
      if (!['requested', 'awaiting_approval', 'approved'].includes(op.state))
        return refusal({ kind: 'moved', operation: op }, 'request');
      await client.views.open({
        trigger_id: body.trigger_id,
        view: buildReasonModal(DEPLOY_VIEWS.emergency, { o: id, c: body.channel?.id ?? '' }, op),
      });
      return undefined;
    });
  });
  registerReasonModals(app, services, (outcome, verb) => refusal(outcome, verb));
  app.action<BlockButtonAction>(ROLLBACK_FURTHER_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, 'rolling back further', async () => {
      const [name, environment] = (action.value ?? '').split('/');
      const service = services.config.services.find((s) => s.name === name && s.environment === environment);
      if (!service) throw new UserInputError(`${name ?? 'That service'} is no longer configured.`);
      return askForOperation({
        services,
        client,
        service,
        request: { kind: 'rollback' },
        userId: body.user.id,
        channelId: body.channel?.id ?? '',
        reason: 'rolling back further after a failed operation',
        idempotencyKey: `click:${body.trigger_id}`,
      });
    });
  });
  /**
   * "Declare incident" on a card whose verification failed: the declare modal, prefilled from the
   * button's value, opened first (the trigger id lasts 3 s), before anything slow.
   */
  app.action<BlockButtonAction>(
    DECLARE_FROM_DEPLOY_ACTION,
    async ({ ack, body, action, respond, client }) => {
      await ack();
      await answer(services, respond, 'opening the declare form', async () => {
        let json: unknown;
        try {
          json = JSON.parse(action.value ?? '');
        } catch {
          json = undefined;
        }
        const parsed = declareValue.safeParse(json);
        if (!parsed.success) throw outOfDate('button');
        const { s: service, w: what, c: checks } = parsed.data;
        const channel = body.channel ? { id: body.channel.id, name: body.channel.name } : undefined;
        if (channel) assertDeclareAllowed(services.config, channel);
        const p1 = services.config.severities.find((level) => level.name === 'P1');
        await client.views.open({
          trigger_id: body.trigger_id,
          view: buildDeclareModal({
            config: services.config,
            declarer: body.user.id,
            metadata: channel ? { c: channel.id } : {},
            title: `${service}: ${what} failed verification`,
            ...(p1 ? { severity: p1.name } : {}),
            services: [service],
            summary: `Verification failed after the ${what} of ${service} (${parsed.data.e}): ${checks.join('; ') || 'no details'}`,
          }),
        });
        return undefined;
      });
    },
  );
  app.action<BlockButtonAction>(ROLLBACK_TO_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, 'rolling back to a revision', async () => {
      const [name, environment, ...revision] = (action.value ?? '').split('/');
      const service = services.config.services.find((s) => s.name === name && s.environment === environment);
      if (!service) throw new UserInputError(`${name ?? 'That service'} is no longer configured.`);
      return askForOperation({
        services,
        client,
        service,
        request: { kind: 'rollback', toRevision: revision.join('/') },
        userId: body.user.id,
        channelId: body.channel?.id ?? '',
        idempotencyKey: `click:${body.trigger_id}`,
      });
    });
  });
}
