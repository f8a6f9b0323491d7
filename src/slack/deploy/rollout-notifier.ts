/** RolloutNotifier in Slack: the roll-out's card in place, its turns in the #deployments thread. */
import type { WebClient } from '@slack/web-api';
import { formatValue } from '../../deploy/analysis.ts';
import {
  type RolloutEvent,
  type RolloutNotifier,
  RolloutService,
  rolloutPlan,
} from '../../deploy/rollout.ts';
import type { Services } from '../../services.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import type { RolloutRun } from '../../store/repositories/rollouts.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { SlackApproverDirectory } from './approvers.ts';
import { cardLink } from './blocks/card.ts';
import { SlackDeployNotifier } from './notifier.ts';
import { progressText, promotionLine, rolloutCardMessage } from './rollout-card.ts';

/** Events said in the #deployments thread (the others only move the card). */
const SAID: Partial<Record<RolloutEvent, string>> = {
  step: ':arrow_forward:',
  paused: ':double_vertical_bar:',
  resumed: ':arrow_forward:',
  inconclusive: ':question:',
  promoted: ':fast_forward:',
  promotion: ':raised_hand:',
};

export class SlackRolloutNotifier implements RolloutNotifier {
  readonly #client: WebClient;
  readonly #services: Services;
  readonly #deploy: SlackDeployNotifier;

  constructor(client: WebClient, services: Services) {
    this.#client = client;
    this.#services = services;
    this.#deploy = new SlackDeployNotifier(client, services);
  }

  #updateCard(op: Operation, run: RolloutRun): void {
    const { slackRate, logger } = this.#services;
    if (!op.cardChannelId || !op.cardTs) return;
    const channel = op.cardChannelId;
    const ts = op.cardTs;
    // Latest wins: the card is rebuilt from Postgres when the limiter sends it.
    void slackRate
      .updateMessage(this.#client, { channel, ts }, async () => {
        const repos = this.#services.repos;
        const current = (await repos.operations.get(op.id)) ?? op;
        const latest = (await repos.rollouts.get(op.id)) ?? run;
        return {
          channel,
          ts,
          ...rolloutCardMessage(current, latest, { approvers: this.#services.config.approvers }),
        };
      })
      .catch((error: unknown) =>
        logger.warn({ err: error, operation: op.id }, 'could not update the roll-out card'),
      );
  }

  async progressed(op: Operation, run: RolloutRun, event: RolloutEvent): Promise<void> {
    this.#updateCard(op, run);
    const icon = SAID[event];
    if (!icon) return;
    const current = (await this.#services.repos.operations.get(op.id)) ?? op;
    const plan = rolloutPlan(op);
    const latest = run.measurements.at(-1);
    const measured =
      latest && event === 'inconclusive'
        ? ` · ${escapeMrkdwn(latest.metric)}: ${escapeMrkdwn(formatValue(latest.metric, latest.value))}`
        : '';
    const ask =
      event === 'inconclusive' || (event === 'paused' && !run.reason?.startsWith('paused by'))
        ? ` · <@${op.requestedBy}>, a human must decide: Resume, Abort or Promote now on ${cardLink(current)}`
        : '';
    if (event === 'promotion') {
      // Who is still needed is mentioned (their user group, when that is how they are listed).
      const line = promotionLine(run, this.#services.config.approvers) ?? '';
      await this.#client.chat.postMessage({
        channel: current.noticeChannelId ?? this.#services.config.channels.deployments,
        ...(current.noticeTs ? { thread_ts: current.noticeTs } : {}),
        text: `${icon} *${escapeMrkdwn(op.service)}* roll-out of \`${escapeMrkdwn(plan.toRevision)}\` (${progressText(op, run)}): ${line}; approve with "Promote now" on ${cardLink(current)}`,
      });
      return;
    }
    const text = `${icon} *${escapeMrkdwn(op.service)}* roll-out of \`${escapeMrkdwn(plan.toRevision)}\`: ${event.replace('_', ' ')} · ${progressText(op, run)}${run.reason ? ` · ${escapeMrkdwn(run.reason)}` : ''}${measured}${ask}`;
    const channel = current.noticeChannelId ?? this.#services.config.channels.deployments;
    await this.#client.chat.postMessage({
      channel,
      ...(current.noticeTs ? { thread_ts: current.noticeTs } : {}),
      text,
    });
  }

  async finished(op: Operation, event: 'succeeded' | 'failed'): Promise<void> {
    await this.#deploy.changed(op, event);
  }
}

/** The roll-out service over this workspace's client (cheap: built per request or timer). */
export function rolloutServiceFor(
  services: Services,
  client: WebClient,
  env: NodeJS.ProcessEnv = process.env,
): RolloutService {
  return new RolloutService({
    db: services.db,
    clock: services.clock,
    logger: services.logger.child({ component: 'rollout' }),
    config: services.config,
    health: services.health,
    env,
    platformFor: (service) => services.platforms.for(service),
    notifier: new SlackRolloutNotifier(client, services),
    approvers: new SlackApproverDirectory(services, client),
  });
}
