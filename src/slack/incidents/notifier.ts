/** The incident domain's notifier port (src/incidents/ports.ts), done in Slack. */
import type { WebClient } from '@slack/web-api';
import type { IncidentNotifier } from '../../incidents/ports.ts';
import type { Services } from '../../services.ts';
import { slackErrorCode } from '../kit/slack-steps.ts';
import { announceEscalation, remindUpdate } from './escalation.ts';
import type { IncidentSlackContext } from './incident-slack.ts';

/** `services`: what escalations and reminders need (the headline, the config); archiving needs only the client. */
export function slackIncidentNotifier(client: WebClient, services?: Services): IncidentNotifier {
  const context = (): IncidentSlackContext => {
    if (!services) throw new Error('slackIncidentNotifier: escalations and reminders need the services');
    return { client, services, logger: services.logger.child({ component: 'incident-clocks' }) };
  };
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
    async escalated(notice) {
      const ctx = context();
      const { failures, told } = await announceEscalation(ctx, notice);
      // Not heard in the incident: the escalation timer fails, is tried again and says it again.
      if (!told) {
        const why = failures.map((f) => `${f.step}: ${f.error}`).join('; ') || 'nowhere to post yet';
        throw new Error(`the escalation to level ${notice.level.level} did not reach the incident (${why})`);
      }
      if (failures.length > 0)
        ctx.logger.warn({ incident: notice.incident.number, failures }, 'escalation told with failures');
    },
    async updateReminder(notice) {
      await remindUpdate(context(), notice);
    },
  };
}
