/**
 * The `deploy.start` timer: scheduled with an operation's last approval, it starts the operation if
 * the replica that approved it died before starting it (a no-op when it started, was cancelled, or
 * may not start now: it then waits on its card for Start, as any approval outside the window).
 */
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import { type DueTimer, readPayload, type TimerHandler } from '../timers/timers.ts';
import { DEPLOY_START_TIMER, type DeployService } from './deploy-service.ts';

const payloadSchema = z.object({ operation: z.string().min(1), approvedBy: z.string().min(1) });

export interface DeployTimerDeps {
  /** The deploy service (with the Slack notifier: src/slack/deploy/notifier.ts deployServiceFor). */
  deploy: () => DeployService;
  logger: Logger;
}

function startHandler(deps: DeployTimerDeps): TimerHandler {
  return async (timer: DueTimer) => {
    const payload = readPayload(payloadSchema, timer, deps.logger, 'deploy start timer');
    if (payload === null) return;
    const started = await deps.deploy().startIfApproved(payload.operation, payload.approvedBy);
    if (started)
      deps.logger.info(
        { operation: payload.operation, state: started.state },
        'approved operation started by its timer',
      );
  };
}

/** The deploy module's timers: kind → handler factory (src/runtime.ts merges them into the loop). */
export const DEPLOY_TIMERS: Record<string, (deps: DeployTimerDeps) => TimerHandler> = {
  [DEPLOY_START_TIMER]: startHandler,
};
