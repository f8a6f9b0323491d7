/**
 * `/deploy health <service> --watch` and the "Watch until healthy" button in Slack: one message in
 * the channel, updated in place each round until the service is healthy or the watch gives up.
 * The watch itself (a row, its rounds as durable timers, owned by one replica at a time) is the
 * domain's (src/health/watches.ts); this is its notifier, saying each round and the verdict in that
 * message, from whichever replica runs the round.
 */
import type { WebClient } from '@slack/web-api';
import {
  watchAlreadyRunning,
  watchGaveUp,
  watchHealthy,
  watchRound,
  watchStarted,
  watchStopped,
  watchStoppedBy,
} from '../../../templates/health.ts';
import { formatDuration } from '../../config/duration.ts';
import { WatchAlreadyRunningError, WatchesStoppingError } from '../../health/errors.ts';
import type { WatchResult } from '../../health/service.ts';
import type { HealthReport } from '../../health/types.ts';
import type { HealthWatchRecord, WatchNotifier } from '../../health/watches.ts';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { slackDate } from '../kit/escape.ts';
import { buildServiceReport, buildWatchOpened, serviceLabel } from './blocks/report.ts';
import { encodeStopWatch } from './button-values.ts';
import { findCheckableService } from './lookup.ts';

export interface StartWatchInput {
  client: WebClient;
  channelId: string;
  service: string;
  environment?: string | undefined;
  intervalMs: number;
  maxDurationMs: number;
  /** Who asked (a Slack user id). */
  userId?: string | undefined;
}

export interface StartedWatch {
  channelId: string;
  /** ts of the message updated in place. */
  ts: string;
}

/** Says any watch's rounds in its channel message, from whichever replica runs them. */
export class SlackWatchNotifier implements WatchNotifier {
  readonly #services: Services;
  readonly #client: WebClient;
  /** A round's update that failed, by watch: the next round this replica runs ends the watch with it. */
  readonly #roundFailures = new Map<string, unknown>();

  constructor(services: Services, client: WebClient) {
    this.#services = services;
    this.#client = client;
  }

  async opened(watch: HealthWatchRecord): Promise<string> {
    const lead = watchStarted({ service: label(watch), every: every(watch), until: until(watch) });
    const message = buildWatchOpened(lead, encodeStopWatch(watch.id));
    const answer = await this.#client.chat.postMessage({
      channel: watch.scope,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks as never } : {}),
    });
    if (!answer.ts) throw new Error('chat.postMessage answered without a ts');
    return answer.ts;
  }

  /**
   * Rounds never wait for Slack: the update goes through the rate limiter (latest state wins), and
   * one that failed ends the watch at its next round.
   */
  async round(watch: HealthWatchRecord, report: HealthReport, round: number): Promise<void> {
    const failure = this.#roundFailures.get(watch.id);
    if (failure !== undefined) {
      this.#roundFailures.delete(watch.id);
      throw failure;
    }
    const lead = watchRound({ service: label(watch), round, status: report.status, until: until(watch) });
    this.#update(
      watch,
      buildServiceReport(report, { lead, stopWatchValue: encodeStopWatch(watch.id) }),
    ).catch((error: unknown) => {
      if (!this.#roundFailures.has(watch.id)) this.#roundFailures.set(watch.id, error);
    });
  }

  async finished(watch: HealthWatchRecord, result: WatchResult): Promise<void> {
    this.#roundFailures.delete(watch.id);
    const service = label(watch);
    const elapsed = formatDuration(result.elapsedMs);
    const lead =
      result.outcome === 'healthy'
        ? watchHealthy({ service, elapsed, rounds: result.rounds })
        : result.outcome === 'deadline'
          ? watchGaveUp({ service, elapsed, rounds: result.rounds, status: result.report.status })
          : watchStopped({ service, rounds: result.rounds, status: result.report.status });
    await this.#update(watch, buildServiceReport(result.report, { lead }));
  }

  async stopped(watch: HealthWatchRecord): Promise<void> {
    await this.#update(watch, {
      text: watchStoppedBy({
        service: label(watch),
        rounds: watch.rounds,
        status: watch.lastStatus ?? 'unknown',
        by: watch.endedBy ? `<@${watch.endedBy}>` : 'someone',
      }),
    });
  }

  async failed(watch: HealthWatchRecord, error: unknown): Promise<void> {
    this.#roundFailures.delete(watch.id);
    const reason = error instanceof Error ? error.message : String(error);
    await this.#update(watch, {
      text: `:x: The watch of ${label(watch)} stopped: ${reason}. Run \`/deploy health ${watch.service} ${watch.environment} --watch\` to start again.`,
    }).catch((updateError: unknown) =>
      this.#services.logger.error(
        { err: updateError, watchId: watch.id },
        'could not say in Slack that the health watch stopped',
      ),
    );
  }

  /**
   * Through the rate limiter: an update still pending when the next one comes is replaced by it
   * (one message, latest state wins).
   */
  async #update(watch: HealthWatchRecord, message: { text: string; blocks?: unknown[] }): Promise<void> {
    const channel = watch.scope;
    const ts = watch.messageRef;
    if (ts === null) throw new Error('the watch message is not posted yet');
    await this.#services.slackRate.updateMessage(this.#client, { channel, ts }, () => ({
      channel,
      ts,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks as never } : {}),
    }));
  }
}

const label = (watch: HealthWatchRecord): string =>
  serviceLabel({ service: watch.service, environment: watch.environment });
const every = (watch: HealthWatchRecord): string => formatDuration(watch.intervalMs);
const until = (watch: HealthWatchRecord): string => `at ${slackDate(watch.deadlineAt)}`;

/**
 * Posts the watch message and starts the watch (its rounds run as durable timers, on any replica);
 * resolves once the message is posted. Throws UserInputError for an unknown service, one already
 * watched in the channel, or a bot shutting down.
 */
export async function startHealthWatch(services: Services, input: StartWatchInput): Promise<StartedWatch> {
  const service = findCheckableService(services.health, input.service, input.environment);
  const name = serviceLabel({ service: service.name, environment: service.environment });
  try {
    const watch = await services.healthWatches.start(
      {
        service: service.name,
        environment: service.environment,
        intervalMs: input.intervalMs,
        maxDurationMs: input.maxDurationMs,
        scope: input.channelId,
        ...(input.userId ? { startedBy: input.userId } : {}),
      },
      new SlackWatchNotifier(services, input.client),
    );
    return { channelId: watch.scope, ts: watch.messageRef ?? '' };
  } catch (error) {
    if (error instanceof WatchesStoppingError)
      throw new UserInputError('The bot is shutting down: start the watch again in a minute.');
    if (error instanceof WatchAlreadyRunningError) throw new UserInputError(watchAlreadyRunning(name));
    throw error;
  }
}
