/** The buttons of a deploy operation's card: Confirm, Cancel, Roll back further. */
import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { DecisionOutcome } from '../../deploy/deploy-service.ts';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { unavailableText } from '../kit/unavailable.ts';
import {
  CANCEL_DEPLOY_ACTION,
  CONFIRM_DEPLOY_ACTION,
  ROLLBACK_FURTHER_ACTION,
  ROLLBACK_TO_ACTION,
} from './blocks/card.ts';
import { deployServiceFor } from './notifier.ts';
import { assertMayOperate } from './permissions.ts';
import { askForOperation } from './request.ts';

function refusal(outcome: DecisionOutcome, verb: string): string | undefined {
  switch (outcome.kind) {
    case 'done':
      return undefined;
    case 'not_found':
      return ':warning: That operation no longer exists.';
    case 'not_requester':
      return `:no_entry: Only <@${outcome.operation.requestedBy}>, who asked for it, can ${verb} this operation.`;
    case 'moved':
      return `This operation is already ${outcome.operation.state}.`;
    case 'expired':
      return ':alarm_clock: This card has expired: nothing was changed. Ask again if it is still needed.';
    case 'locked':
      return 'This operation is being started already.';
  }
}

async function answer(
  services: Services,
  respond: RespondFn,
  what: string,
  work: () => Promise<string | undefined>,
) {
  let text: string | undefined;
  try {
    text = await work();
  } catch (error) {
    if (error instanceof UserInputError)
      text = `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`;
    else {
      services.logger.error({ err: error }, `${what} failed`);
      text =
        unavailableText(error) ??
        `:x: Something went wrong (${what}). It has been logged; nothing was changed.`;
    }
  }
  if (text) {
    await respond({ response_type: 'ephemeral', replace_original: false, text }).catch((error: unknown) =>
      services.logger.warn({ err: error }, 'could not answer a deploy button'),
    );
  }
}

export function registerDeployActions(app: App, services: Services): void {
  app.action<BlockButtonAction>(CONFIRM_DEPLOY_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, 'confirming a deploy operation', async () => {
      const deploy = deployServiceFor(services, client);
      const op = await deploy.get(action.value ?? '');
      if (op) await assertMayOperate(services, client, body.user.id, op.environment);
      const outcome = await deploy.confirm(action.value ?? '', body.user.id);
      if (outcome.kind === 'done' && outcome.run)
        void services.inFlight.track('deploy operation', outcome.run);
      return refusal(outcome, 'confirm');
    });
  });
  app.action<BlockButtonAction>(CANCEL_DEPLOY_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    await answer(services, respond, 'cancelling a deploy operation', async () => {
      const deploy = deployServiceFor(services, client);
      const op = await deploy.get(action.value ?? '');
      if (op) await assertMayOperate(services, client, body.user.id, op.environment);
      return refusal(await deploy.cancel(action.value ?? '', body.user.id), 'cancel');
    });
  });
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
