/** Archives a resolved incident's channel when its `incident.archive` timer comes due. */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { DueTimer } from '../../coordination/coordination.ts';
import type { TimerHandler } from '../../coordination/timer-loop.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { slackErrorCode } from '../kit/slack-steps.ts';

const payloadSchema = z.object({ incident: z.number().int().positive() });

export function archiveTimerHandler(deps: {
  client: WebClient;
  services: Services;
  logger: Logger;
}): TimerHandler {
  return async (timer: DueTimer) => {
    const { incident: number } = payloadSchema.parse(timer.payload);
    const incident = await deps.services.repos.incidents.get(number);
    const logger = deps.logger.child({ incident: number, timer: timer.id });
    if (!incident?.channelId || incident.status !== 'resolved') {
      logger.info(
        { status: incident?.status },
        'archive timer due, but the incident is not resolved (or has no channel): kept',
      );
      return;
    }
    try {
      await deps.client.conversations.archive({ channel: incident.channelId });
      logger.info({ channel: incident.channelId }, 'incident channel archived');
    } catch (error) {
      if (slackErrorCode(error) === 'already_archived') return;
      throw error;
    }
  };
}
