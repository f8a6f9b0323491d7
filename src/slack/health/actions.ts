/** Buttons of health answers ("Post to channel", "Watch until healthy"). */
import type { App, BlockButtonAction } from '@slack/bolt';
import {
  recheckedFor,
  sharedBy,
  watchAlreadyEnded,
  watchPostedPrivately,
} from '../../../templates/health.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { answering } from '../kit/answering.ts';
import type { Reply } from '../kit/command.ts';
import { UserInputError } from '../kit/errors.ts';
import { clickKey, DOUBLE_CLICK_MS, runOnce } from '../kit/once.ts';
import { DEFAULT_WATCH_DURATION_MS, DEFAULT_WATCH_INTERVAL_MS } from './args.ts';
import {
  buildMultiReport,
  buildServiceReport,
  POST_HEALTH_ACTION,
  STOP_WATCH_ACTION,
  serviceLabel,
  WATCH_HEALTH_ACTION,
} from './blocks/report.ts';
import { decodePost, decodeStopWatch, decodeWatch, reportOf } from './button-values.ts';
import { findCheckableService } from './lookup.ts';
import { SlackWatchNotifier, startHealthWatch } from './watch-message.ts';

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
          userId: body.user.id,
        });
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: watchPostedPrivately(serviceLabel({ service: value.s, environment: value.e })),
        });
      });
    });
  });

  // "Stop watching" on a running watch's message: whoever sees it may stop it, on any replica.
  app.action<BlockButtonAction>(STOP_WATCH_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const logger = services.logger.child({ action: STOP_WATCH_ACTION, user: body.user.id });
    await answering(logger, respond, 'stopping the health watch', async () => {
      const value = decodeStopWatch(action.value ?? '');
      await once(services, body, logger, async () => {
        const stopped = await services.healthWatches.stop(
          value.w,
          body.user.id,
          new SlackWatchNotifier(services, client),
        );
        if (stopped.outcome === 'not-running')
          await respond({ response_type: 'ephemeral', replace_original: false, text: watchAlreadyEnded });
      });
    });
  });
}
