/**
 * `/deploy health <service> --watch` and the "Watch until healthy" button: one message in the
 * channel, updated in place each round until the service is healthy or the watch gives up.
 * Watches run in the background (never blocking the ack) and are kept here so that shutdown
 * stops them and says so in their message.
 */
import type { WebClient } from '@slack/web-api';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import {
  watchAlreadyRunning,
  watchGaveUp,
  watchHealthy,
  watchRound,
  watchStarted,
  watchStopped,
} from '../../../templates/health.ts';
import { formatDuration } from '../../config/duration.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { slackDate } from '../kit/escape.ts';
import { buildServiceReport, serviceLabel } from './blocks/report.ts';
import { findCheckableService } from './lookup.ts';

interface RunningWatch {
  controller: AbortController;
  done: Promise<void>;
}

/** The watches running in this process, by key; `stopAll()` at shutdown. */
export class HealthWatches {
  readonly #logger: Logger;
  readonly #running = new Map<string, RunningWatch>();
  #stopping = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get size(): number {
    return this.#running.size;
  }

  /** True once stopAll() was called: no new watch starts. */
  get stopping(): boolean {
    return this.#stopping;
  }

  isRunning(key: string): boolean {
    return this.#running.has(key);
  }

  /**
   * Runs the task in the background under `key`; false (and nothing runs) when a watch with that
   * key is running or the process is shutting down. The task's errors are logged.
   */
  run(key: string, task: (signal: AbortSignal) => Promise<void>): boolean {
    if (this.#stopping || this.#running.has(key)) return false;
    const controller = new AbortController();
    const done = (async () => {
      try {
        await task(controller.signal);
      } catch (error) {
        this.#logger.error({ err: error, watch: key }, 'health watch failed');
      } finally {
        this.#running.delete(key);
      }
    })();
    this.#running.set(key, { controller, done });
    return true;
  }

  /** Stops every watch and waits for each to post its last word. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    const running = [...this.#running.values()];
    for (const watch of running) watch.controller.abort();
    await Promise.all(running.map((w) => w.done));
  }
}

export interface StartWatchInput {
  client: WebClient;
  channelId: string;
  service: string;
  environment?: string | undefined;
  intervalMs: number;
  maxDurationMs: number;
}

export interface StartedWatch {
  channelId: string;
  /** ts of the message updated in place. */
  ts: string;
}

/**
 * Posts the watch message and starts the watch in the background; resolves once the message is
 * posted. Throws UserInputError for an unknown service or one already watched in the channel.
 */
export async function startHealthWatch(services: Services, input: StartWatchInput): Promise<StartedWatch> {
  const service = findCheckableService(services.health, input.service, input.environment);
  const label = serviceLabel({ service: service.name, environment: service.environment });
  const key = `${input.channelId}:${service.name}:${service.environment}`;
  const logger = services.logger.child({ watch: key });
  const until = slackDate(addMilliseconds(services.clock.now(), input.maxDurationMs));
  const every = formatDuration(input.intervalMs);

  let posted!: (ref: StartedWatch) => void;
  let failed!: (error: unknown) => void;
  const started = new Promise<StartedWatch>((resolve, reject) => {
    posted = resolve;
    failed = reject;
  });

  const accepted = services.healthWatches.run(key, async (signal) => {
    const lead = watchStarted({ service: label, every, until: `at ${until}` });
    let ts: string;
    try {
      const answer = await input.client.chat.postMessage({ channel: input.channelId, text: lead });
      if (!answer.ts) throw new Error('chat.postMessage answered without a ts');
      ts = answer.ts;
    } catch (error) {
      failed(error);
      return;
    }
    posted({ channelId: input.channelId, ts });
    // Through the rate limiter: rounds never wait for Slack, and a round's update still pending
    // when the next one comes is replaced by it (one message, latest state wins).
    const update = (message: { text: string; blocks?: unknown[] }) =>
      services.slackRate.updateMessage(input.client, { channel: input.channelId, ts }, () => ({
        channel: input.channelId,
        ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
      }));
    let roundFailure: unknown;
    try {
      const result = await services.health.watch(service.name, {
        environment: service.environment,
        intervalMs: input.intervalMs,
        maxDurationMs: input.maxDurationMs,
        signal,
        onReport: (report, round) => {
          if (roundFailure !== undefined) throw roundFailure;
          if (report.status === 'healthy') return; // the final message follows
          update(
            buildServiceReport(report, {
              lead: watchRound({ service: label, round, status: report.status, until: `at ${until}` }),
            }),
          ).catch((error: unknown) => {
            roundFailure ??= error;
          });
        },
      });
      const elapsed = formatDuration(result.elapsedMs);
      const headline =
        result.outcome === 'healthy'
          ? watchHealthy({ service: label, elapsed, rounds: result.rounds })
          : result.outcome === 'deadline'
            ? watchGaveUp({ service: label, elapsed, rounds: result.rounds, status: result.report.status })
            : watchStopped({ service: label, rounds: result.rounds, status: result.report.status });
      await update(buildServiceReport(result.report, { lead: headline }));
    } catch (error) {
      logger.error({ err: error }, 'health watch stopped by an error');
      const reason = error instanceof Error ? error.message : String(error);
      await update({
        text: `:x: The watch of ${label} stopped: ${reason}. Run \`/deploy health ${service.name} ${service.environment} --watch\` to start again.`,
      }).catch((updateError: unknown) =>
        logger.error({ err: updateError }, 'could not say in Slack that the health watch stopped'),
      );
    }
  });
  if (!accepted) {
    if (services.healthWatches.stopping)
      throw new UserInputError('The bot is shutting down: start the watch again in a minute.');
    throw new UserInputError(watchAlreadyRunning(label));
  }
  return started;
}
