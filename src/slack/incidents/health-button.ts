/** The incident headline's "Run health check" button: checks the incident's affected services once. */
import type { App, BlockButtonAction } from '@slack/bolt';
import { incidentId, parseIncidentId } from '../../incidents/incident.ts';
import type { Services } from '../../services.ts';
import { answering } from '../kit/answering.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { runOnce } from '../kit/once.ts';
import { INCIDENT_ACTIONS } from './blocks/headline.ts';
import { runIncidentHealthCheck } from './health.ts';

/** The incident headline's button (built with the headline); its value is the incident number. */
export const RUN_INCIDENT_HEALTH_CHECK_ACTION = INCIDENT_ACTIONS.runHealthCheck;

/**
 * One health check of an incident at a time, whoever clicks and on whichever replica: clicks
 * within this long of the one that started it are answered "already running".
 */
export const INCIDENT_HEALTH_CHECK_WINDOW_MS = 30_000;

export function registerIncidentHealthButton(app: App, services: Services): void {
  app.action<BlockButtonAction>(
    RUN_INCIDENT_HEALTH_CHECK_ACTION,
    async ({ ack, body, action, respond, client }) => {
      await ack();
      const logger = services.logger.child({ action: RUN_INCIDENT_HEALTH_CHECK_ACTION, user: body.user.id });
      await answering(logger, respond, 'the incident health check', async () => {
        const number = parseIncidentId(action.value ?? '');
        const incident = number === null ? null : await services.repos.incidents.get(number);
        if (!incident)
          throw new UserInputError(
            `This button names no known incident (${escapeMrkdwn((action.value ?? 'no value').slice(0, 100))}).`,
            'Run `/incident health` in the incident channel instead.',
          );
        // Not per click: a double click, two people clicking, or two replicas run one check.
        const ran = await runOnce(
          services,
          `incident-health:${incident.number}`,
          'button',
          INCIDENT_HEALTH_CHECK_WINDOW_MS,
          async () => {
            await runIncidentHealthCheck(services, client, incident, body.user.id);
          },
        );
        if (!ran) {
          logger.info({ incident: incident.number }, 'health check already running: click ignored');
          await respond({
            response_type: 'ephemeral',
            replace_original: false,
            text: `:hourglass_flowing_sand: A health check of ${incidentId(incident.number)} is already running or has just run; its result is posted in the incident's channel.`,
          });
        }
      });
    },
  );
}
