/** The buttons of a roll-out's card: Pause, Resume, Abort, Promote now (the requester or an approver). */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { ControlOutcome, RolloutService } from '../../deploy/rollout.ts';
import type { Services } from '../../services.ts';
import { answering } from '../kit/answering.ts';
import { assertMayOperate } from './permissions.ts';
import {
  ABORT_ROLLOUT_ACTION,
  PAUSE_ROLLOUT_ACTION,
  PROMOTE_ROLLOUT_ACTION,
  RESUME_ROLLOUT_ACTION,
  stillNeededText,
} from './rollout-card.ts';
import { rolloutServiceFor } from './rollout-notifier.ts';

function refusal(
  outcome: ControlOutcome,
  verb: string,
  approvers: Services['config']['approvers'],
): string | undefined {
  switch (outcome.kind) {
    case 'done':
      return undefined;
    case 'not_found':
      return ':warning: That roll-out no longer exists.';
    case 'not_allowed':
      return `:no_entry: Only <@${outcome.operation.requestedBy}>, who asked for it, or an approver of ${outcome.operation.environment} can ${verb} this roll-out. Nothing was changed.`;
    case 'moved':
      return `This roll-out has moved on (${outcome.run?.state ?? outcome.operation.state}): nothing was changed.`;
    case 'promotion_pending': {
      const needed = stillNeededText(outcome.progress.missingGroups, outcome.progress.missing, approvers);
      switch (outcome.why) {
        case 'asked':
          return `:raised_hand: Promote now needs approvals, as any change of ${outcome.operation.environment} does: still needed ${needed}. They were asked in the #deployments thread; the card shows who approved, and the last approval promotes. The roll-out goes on meanwhile.`;
        case 'approved':
          return `:white_check_mark: Your approval of Promote now is recorded; still needed: ${needed}. The last approval promotes.`;
        case 'self':
          return `:no_entry: You asked for this roll-out, so your click does not approve its promotion: still needed ${needed}. Nothing was changed.`;
        case 'already':
          return `You have already approved Promote now; still needed: ${needed}. Nothing was changed.`;
        case 'not_needed':
          return `:no_entry: Your approval of Promote now would not count: still needed ${needed}. Nothing was changed.`;
      }
    }
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
      await answering(
        services.logger,
        respond,
        `${verb} a roll-out`,
        async () => {
          const rollouts = rolloutServiceFor(services, client, env);
          const found = await rollouts.get(action.value ?? '');
          if (found) await assertMayOperate(services, client, body.user.id, found.operation.environment);
          return refusal(
            await run(rollouts, action.value ?? '', body.user.id),
            verb,
            services.config.approvers,
          );
        },
        '.',
      );
    });
  }
}
