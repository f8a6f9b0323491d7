/** The buttons of a roll-out's card: Pause, Resume, Abort, Promote now (the requester or an approver). */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { ControlOutcome, RolloutService } from '../../deploy/rollout.ts';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { unavailableText } from '../kit/unavailable.ts';
import { assertMayOperate } from './permissions.ts';
import {
  ABORT_ROLLOUT_ACTION,
  PAUSE_ROLLOUT_ACTION,
  PROMOTE_ROLLOUT_ACTION,
  RESUME_ROLLOUT_ACTION,
} from './rollout-card.ts';
import { rolloutServiceFor } from './rollout-notifier.ts';

function refusal(outcome: ControlOutcome, verb: string): string | undefined {
  switch (outcome.kind) {
    case 'done':
      return undefined;
    case 'not_found':
      return ':warning: That roll-out no longer exists.';
    case 'not_allowed':
      return `:no_entry: Only <@${outcome.operation.requestedBy}>, who asked for it, or an approver of ${outcome.operation.environment} can ${verb} this roll-out. Nothing was changed.`;
    case 'moved':
      return `This roll-out has moved on (${outcome.run?.state ?? outcome.operation.state}): nothing was changed.`;
  }
}

const BUTTONS: [string, string, (r: RolloutService, id: string, user: string) => Promise<ControlOutcome>][] =
  [
    [PAUSE_ROLLOUT_ACTION, 'pause', (r, id, user) => r.pause(id, user)],
    [RESUME_ROLLOUT_ACTION, 'resume', (r, id, user) => r.resume(id, user)],
    [ABORT_ROLLOUT_ACTION, 'abort', (r, id, user) => r.abort(id, user)],
    [PROMOTE_ROLLOUT_ACTION, 'promote', (r, id, user) => r.promote(id, user)],
  ];

export function registerRolloutActions(
  app: App,
  services: Services,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const [actionId, verb, run] of BUTTONS) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action, respond, client }) => {
      await ack();
      let text: string | undefined;
      try {
        const rollouts = rolloutServiceFor(services, client, env);
        const found = await rollouts.get(action.value ?? '');
        if (found) await assertMayOperate(services, client, body.user.id, found.operation.environment);
        text = refusal(await run(rollouts, action.value ?? '', body.user.id), verb);
      } catch (error) {
        services.logger.error({ err: error, action: actionId }, `could not ${verb} a roll-out`);
        text =
          unavailableText(error) ??
          (error instanceof UserInputError
            ? `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`
            : `:x: Something went wrong (${verb} a roll-out). It has been logged.`);
      }
      if (text) {
        await respond({ response_type: 'ephemeral', replace_original: false, text }).catch((error: unknown) =>
          services.logger.warn({ err: error }, 'could not answer a roll-out button'),
        );
      }
    });
  }
}
