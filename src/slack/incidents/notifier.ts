/** The incident domain's notifier port (src/incidents/ports.ts), done in Slack. */
import type { WebClient } from '@slack/web-api';
import type { IncidentNotifier } from '../../incidents/ports.ts';
import { slackErrorCode } from '../kit/slack-steps.ts';

export function slackIncidentNotifier(client: WebClient): IncidentNotifier {
  return {
    async archiveChannel(channelId) {
      try {
        await client.conversations.archive({ channel: channelId });
        return 'archived';
      } catch (error) {
        if (slackErrorCode(error) === 'already_archived') return 'already_archived';
        throw error;
      }
    },
  };
}
