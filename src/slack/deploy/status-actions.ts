/** The "Post to channel" button of a `/deploy status` answer: re-reads, and posts for everyone. */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { clickKey, DOUBLE_CLICK_MS, runOnce } from '../kit/once.ts';
import { unavailableText } from '../kit/unavailable.ts';
import {
  healthSummary,
  POST_DEPLOY_STATUS_ACTION,
  platformStatusText,
  rolloutInProgress,
  statusReply,
} from './status-extra.ts';

export function registerDeployStatusActions(app: App, services: Services): void {
  app.action<BlockButtonAction>(POST_DEPLOY_STATUS_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    const logger = services.logger.child({ action: POST_DEPLOY_STATUS_ACTION, user: body.user.id });
    const work = async () => {
      const [name, environment] = (action.value ?? '').split('/');
      const service = services.config.services.find((s) => s.name === name && s.environment === environment);
      if (!service) throw new UserInputError(`${name ?? 'That service'} is no longer configured.`);
      const [status, rollout, health] = await Promise.all([
        platformStatusText(services, service),
        rolloutInProgress(services, service),
        healthSummary(services, service),
      ]);
      const text = rollout ? `${status}\n${rollout}` : status;
      await respond({
        response_type: 'in_channel',
        replace_original: false,
        ...statusReply(`${text}\n${health}`, service, {
          button: false,
          note: `Checked just now for <@${body.user.id}>`,
        }),
      });
    };
    try {
      const key = clickKey(body);
      if (key === undefined) await work();
      else if (!(await runOnce(services, key, 'button', DOUBLE_CLICK_MS, work)))
        logger.info('repeated click ignored');
    } catch (error) {
      const text =
        error instanceof UserInputError
          ? `:warning: ${error.message}`
          : (unavailableText(error) ?? ':x: Something went wrong posting the status. It has been logged.');
      if (!(error instanceof UserInputError)) logger.error({ err: error }, 'posting a deploy status failed');
      await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(() => undefined);
    }
  });
}
