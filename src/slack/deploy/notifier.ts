/** DeployNotifier in Slack: the card updated in place, start and outcome in one #deployments thread. */
import type { WebClient } from '@slack/web-api';
import { type DeployEvent, type DeployNotifier, DeployService } from '../../deploy/deploy-service.ts';
import type { Services } from '../../services.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import { refreshIncidentInSlack } from '../incidents/incident-slack.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { cardMessage, changeLine, finalLine } from './blocks/card.ts';
import { rolloutCardMessage } from './rollout-card.ts';

const FINAL: readonly DeployEvent[] = ['succeeded', 'failed', 'interrupted'];

function cardLink(op: Operation): string {
  if (!op.cardChannelId || !op.cardTs) return 'the card';
  return `<https://slack.com/archives/${op.cardChannelId}/p${op.cardTs.replace('.', '')}|the card>`;
}

export class SlackDeployNotifier implements DeployNotifier {
  readonly #client: WebClient;
  readonly #services: Services;
  /** Set once the service exists (it records where the #deployments message went). */
  deploy: DeployService | undefined;

  constructor(client: WebClient, services: Services) {
    this.#client = client;
    this.#services = services;
  }

  async changed(op: Operation, event: DeployEvent): Promise<void> {
    try {
      await this.#cardAndDeployments(op, event);
    } finally {
      if (op.incidentNumber !== null) await this.#incident(op.incidentNumber);
    }
  }

  /** The incident's headline shows the operation (its timeline event is written with the transition). */
  async #incident(number: number): Promise<void> {
    const services = this.#services;
    try {
      const incident = await services.repos.incidents.get(number);
      if (!incident) return;
      const logger = services.logger.child({ component: 'deploy', incident: number });
      await refreshIncidentInSlack({ client: this.#client, services, logger }, incident);
    } catch (error) {
      services.logger.warn({ err: error, incident: number }, 'could not refresh the incident headline');
    }
  }

  async #cardAndDeployments(op: Operation, event: DeployEvent): Promise<void> {
    const { slackRate, logger, config } = this.#services;
    if (op.cardChannelId && op.cardTs) {
      const channel = op.cardChannelId;
      const ts = op.cardTs;
      // Not awaited: the limiter spaces a message's updates (1 s apart) and coalesces them (latest
      // wins), and the operation must not wait for that; stopping waits for queued updates.
      void slackRate
        .updateMessage(this.#client, { channel, ts }, async () => ({
          channel,
          ts,
          // A roll-out's card shows its progress (src/slack/deploy/rollout-card.ts).
          ...(op.kind === 'rollout'
            ? rolloutCardMessage(op, await this.#services.repos.rollouts.get(op.id))
            : cardMessage(op)),
        }))
        .catch((error: unknown) =>
          logger.warn({ err: error, operation: op.id }, 'could not update the deploy card'),
        );
    }
    const head = `*${escapeMrkdwn(op.service)}* (${escapeMrkdwn(op.environment)}) ${op.kind}`;
    if (event === 'started' && !op.noticeTs) {
      const posted = await this.#client.chat.postMessage({
        channel: config.channels.deployments,
        text: `:arrows_counterclockwise: ${head} started by <@${op.confirmedBy ?? op.requestedBy}>: ${changeLine(op)}${op.reason ? ` · why: ${escapeMrkdwn(op.reason)}` : ''} · ${cardLink(op)}`,
      });
      if (posted.ts && posted.channel) await this.deploy?.attachNotice(op, posted.channel, posted.ts);
      return;
    }
    if (FINAL.includes(event)) {
      const current = (await this.deploy?.get(op.id)) ?? op;
      const icon = event === 'succeeded' ? ':white_check_mark:' : event === 'failed' ? ':x:' : ':warning:';
      const text = `${icon} ${finalLine(current)}`;
      if (current.noticeChannelId && current.noticeTs) {
        await this.#client.chat.postMessage({
          channel: current.noticeChannelId,
          thread_ts: current.noticeTs,
          text,
        });
      } else {
        await this.#client.chat.postMessage({ channel: config.channels.deployments, text });
      }
      if (event === 'interrupted' && current.cardChannelId) {
        await this.#client.chat.postMessage({ channel: current.cardChannelId, text });
      }
    }
  }
}

/** The domain service over this workspace's client (cheap: built per request). */
export function deployServiceFor(services: Services, client: WebClient): DeployService {
  const notifier = new SlackDeployNotifier(client, services);
  const deploy = new DeployService({
    db: services.db,
    clock: services.clock,
    logger: services.logger.child({ component: 'deploy' }),
    config: services.config,
    coordination: services.coordination,
    health: services.health,
    platformFor: (service) => services.platforms.for(service),
    notifier,
  });
  notifier.deploy = deploy;
  return deploy;
}
