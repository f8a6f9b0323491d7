/**
 * `/deploy health <service> --watch` and the "Watch until healthy" button in Slack: one message in
 * the channel, updated in place each round until the service is healthy or the watch gives up.
 * The watch itself (rounds, registry, shutdown) is the domain's (src/health/watches.ts); this is
 * its observer, saying each round and the verdict in that message.
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
import type { ServiceConfig } from '../../config/schema.ts';
import { WatchAlreadyRunningError, WatchesStoppingError } from '../../health/errors.ts';
import type { WatchResult } from '../../health/service.ts';
import type { HealthReport } from '../../health/types.ts';
import type { WatchObserver } from '../../health/watches.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { slackDate } from '../kit/escape.ts';
import { buildServiceReport, serviceLabel } from './blocks/report.ts';
import { findCheckableService } from './lookup.ts';

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

/** The watch's message in a channel: posted when the watch opens, then updated in place. */
class WatchMessage implements WatchObserver {
  readonly #services: Services;
  readonly #client: WebClient;
  readonly #channelId: string;
  readonly #service: ServiceConfig;
  readonly #label: string;
  readonly #every: string;
  readonly #until: string;
  readonly #logger: Logger;
  #ts: string | undefined;
  /** A round's update that failed: the next round ends the watch with it. */
  #roundFailure: unknown;

  constructor(services: Services, input: StartWatchInput, service: ServiceConfig, label: string) {
    this.#services = services;
    this.#client = input.client;
    this.#channelId = input.channelId;
    this.#service = service;
    this.#label = label;
    this.#every = formatDuration(input.intervalMs);
    this.#until = `at ${slackDate(addMilliseconds(services.clock.now(), input.maxDurationMs))}`;
    this.#logger = services.logger.child({
      watch: `${input.channelId}:${service.name}:${service.environment}`,
    });
  }

  /** The posted message (after opened()). */
  get ref(): StartedWatch {
    if (this.#ts === undefined) throw new Error('the watch message is not posted yet');
    return { channelId: this.#channelId, ts: this.#ts };
  }

  async opened(): Promise<void> {
    const text = watchStarted({ service: this.#label, every: this.#every, until: this.#until });
    const answer = await this.#client.chat.postMessage({ channel: this.#channelId, text });
    if (!answer.ts) throw new Error('chat.postMessage answered without a ts');
    this.#ts = answer.ts;
  }

  round(report: HealthReport, round: number): void {
    if (this.#roundFailure !== undefined) throw this.#roundFailure;
    if (report.status === 'healthy') return; // the final message follows
    const lead = watchRound({ service: this.#label, round, status: report.status, until: this.#until });
    this.#update(buildServiceReport(report, { lead })).catch((error: unknown) => {
      this.#roundFailure ??= error;
    });
  }

  async finished(result: WatchResult): Promise<void> {
    const service = this.#label;
    const elapsed = formatDuration(result.elapsedMs);
    const lead =
      result.outcome === 'healthy'
        ? watchHealthy({ service, elapsed, rounds: result.rounds })
        : result.outcome === 'deadline'
          ? watchGaveUp({ service, elapsed, rounds: result.rounds, status: result.report.status })
          : watchStopped({ service, rounds: result.rounds, status: result.report.status });
    await this.#update(buildServiceReport(result.report, { lead }));
  }

  async failed(error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    const { name, environment } = this.#service;
    await this.#update({
      text: `:x: The watch of ${this.#label} stopped: ${reason}. Run \`/deploy health ${name} ${environment} --watch\` to start again.`,
    }).catch((updateError: unknown) =>
      this.#logger.error({ err: updateError }, 'could not say in Slack that the health watch stopped'),
    );
  }

  /**
   * Through the rate limiter: rounds never wait for Slack, and a round's update still pending
   * when the next one comes is replaced by it (one message, latest state wins).
   */
  #update(message: { text: string; blocks?: unknown[] }): Promise<unknown> {
    const { channelId: channel, ts } = this.ref;
    return this.#services.slackRate.updateMessage(this.#client, { channel, ts }, () => ({
      channel,
      ts,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks as never } : {}),
    }));
  }
}

/**
 * Posts the watch message and starts the watch in the background; resolves once the message is
 * posted. Throws UserInputError for an unknown service, one already watched in the channel, or
 * a bot shutting down.
 */
export async function startHealthWatch(services: Services, input: StartWatchInput): Promise<StartedWatch> {
  const service = findCheckableService(services.health, input.service, input.environment);
  const label = serviceLabel({ service: service.name, environment: service.environment });
  const message = new WatchMessage(services, input, service, label);
  try {
    await services.healthWatches.start(
      {
        service: service.name,
        environment: service.environment,
        intervalMs: input.intervalMs,
        maxDurationMs: input.maxDurationMs,
        scope: input.channelId,
      },
      message,
    );
  } catch (error) {
    if (error instanceof WatchesStoppingError)
      throw new UserInputError('The bot is shutting down: start the watch again in a minute.');
    if (error instanceof WatchAlreadyRunningError) throw new UserInputError(watchAlreadyRunning(label));
    throw error;
  }
  return message.ref;
}
