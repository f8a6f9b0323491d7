/** Buttons of health answers ("Post to channel", "Watch until healthy") and the incident headline's "Run health check". */
import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import { recheckedFor, sharedBy, watchPostedPrivately } from '../../../templates/health.ts';
import { incidentId, parseIncidentId } from '../../incidents/incident.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { runIncidentHealthCheck } from '../incidents/health.ts';
import type { Reply } from '../kit/command.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { clickKey, DOUBLE_CLICK_MS, runOnce } from '../kit/once.ts';
import { unavailableText } from '../kit/unavailable.ts';
import { DEFAULT_WATCH_DURATION_MS, DEFAULT_WATCH_INTERVAL_MS } from './args.ts';
import {
  buildMultiReport,
  buildServiceReport,
  POST_HEALTH_ACTION,
  serviceLabel,
  WATCH_HEALTH_ACTION,
} from './blocks/report.ts';
import { decodePost, decodeWatch, reportOf } from './button-values.ts';
import { findCheckableService } from './lookup.ts';
import { startHealthWatch } from './watch-message.ts';

/** The incident headline's button (built with the headline); its value is the incident number. */
export const RUN_INCIDENT_HEALTH_CHECK_ACTION = 'incident_run_health_check';

/**
 * One health check of an incident at a time, whoever clicks and on whichever replica: clicks
 * within this long of the one that started it are answered "already running".
 */
export const INCIDENT_HEALTH_CHECK_WINDOW_MS = 30_000;

/** Runs a button's work after the ack; problems are told privately to whoever clicked. */
async function answering(
  logger: Logger,
  respond: RespondFn,
  what: string,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const text =
      error instanceof UserInputError
        ? `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`
        : (unavailableText(error) ??
          `:x: Something went wrong (${what}). It has been logged; try again, and if it keeps failing tell the bot's operators.`);
    if (!(error instanceof UserInputError)) logger.error({ err: error }, `${what} failed`);
    await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(
      (respondError: unknown) =>
        logger.error({ err: respondError }, 'could not tell the user about a failed button'),
    );
  }
}

/** Runs a click's work once: a double click, or one click reaching two replicas, runs it once. */
async function once(
  services: Services,
  body: unknown,
  logger: Logger,
  work: () => Promise<void>,
): Promise<void> {
  const key = clickKey(body);
  if (key === undefined) return work();
  if (!(await runOnce(services, key, 'button', DOUBLE_CLICK_MS, work))) logger.info('repeated click ignored');
}

export function registerHealthActions(app: App, services: Services): void {
  app.action<BlockButtonAction>(POST_HEALTH_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    const logger = services.logger.child({ action: POST_HEALTH_ACTION, user: body.user.id });
    await answering(logger, respond, 'posting the health check in the channel', async () => {
      const value = decodePost(action.value ?? '');
      await once(services, body, logger, async () => {
        const user = `<@${body.user.id}>`;
        const stored = reportOf(value);
        let reply: Reply;
        if (stored) {
          reply = buildServiceReport(stored, { note: sharedBy(user) });
        } else if (value.k === 'svc') {
          const service = findCheckableService(services.health, value.s, value.e);
          const report = await services.health.checkService(service.name, service.environment);
          reply = buildServiceReport(report, { note: recheckedFor(user) });
        } else {
          const reports = await services.health.checkAll();
          reply = buildMultiReport(reports, { note: recheckedFor(user) });
        }
        await respond({ response_type: 'in_channel', replace_original: false, ...reply });
      });
    });
  });

  app.action<BlockButtonAction>(WATCH_HEALTH_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const logger = services.logger.child({ action: WATCH_HEALTH_ACTION, user: body.user.id });
    await answering(logger, respond, 'starting the health watch', async () => {
      const value = decodeWatch(action.value ?? '');
      const channelId = body.channel?.id;
      if (!channelId)
        throw new UserInputError('This button works in a channel: run `/deploy health --watch` there.');
      await once(services, body, logger, async () => {
        await startHealthWatch(services, {
          client,
          channelId,
          service: value.s,
          environment: value.e,
          intervalMs: DEFAULT_WATCH_INTERVAL_MS,
          maxDurationMs: DEFAULT_WATCH_DURATION_MS,
        });
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: watchPostedPrivately(serviceLabel({ service: value.s, environment: value.e })),
        });
      });
    });
  });

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
