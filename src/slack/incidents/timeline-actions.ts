/** Previous/Next on a timeline page: replaces the ephemeral page in place through response_url. */
import type { App, BlockButtonAction } from '@slack/bolt';
import { incidentId } from '../../incidents/incident.ts';
import type { Services } from '../../services.ts';
import { outOfDate } from '../kit/errors.ts';
import { unavailableText } from '../kit/unavailable.ts';
import { parseTimelinePageValue, TIMELINE_PAGE_ACTION } from './blocks/timeline.ts';
import { renderTimelinePage } from './timeline-page.ts';

const PAGE_ACTION = new RegExp(`^${TIMELINE_PAGE_ACTION}(?::|$)`);

export function registerTimelineActions(app: App, services: Services): void {
  app.action<BlockButtonAction>(PAGE_ACTION, async ({ ack, action, respond, body, client }) => {
    await ack();
    const logger = services.logger.child({ action: action.action_id, user: body.user.id });
    const target = parseTimelinePageValue(action.value);
    if (!target) {
      logger.warn({ value: action.value }, 'timeline page button with an unexpected value');
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `:warning: ${outOfDate('button', '`/incident timeline`').message}`,
      });
      return;
    }
    try {
      const incident = await services.repos.incidents.get(target.incidentNumber);
      if (!incident) {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: `:warning: ${incidentId(target.incidentNumber)} no longer exists.`,
        });
        return;
      }
      const page = await renderTimelinePage(services, client, incident, target.page, { clamp: true });
      await respond({ response_type: 'ephemeral', replace_original: true, ...page });
    } catch (error) {
      const unavailable = unavailableText(error);
      if (!unavailable) throw error;
      logger.error({ err: error }, 'timeline page failed: a dependency is unreachable');
      await respond({ response_type: 'ephemeral', replace_original: false, text: unavailable });
    }
  });
}
