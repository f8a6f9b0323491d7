/** DeployNotifier in Slack: the card updated in place, start and outcome in one #deployments thread. */
import type { WebClient } from '@slack/web-api';
import { parseRule, progress } from '../../deploy/approval-rules.ts';
import {
  type DeployEvent,
  type DeployNotifier,
  DeployService,
  gateText,
} from '../../deploy/deploy-service.ts';
import type { Services } from '../../services.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import { refreshIncidentInSlack } from '../incidents/incident-slack.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { cardContext, SlackApproverDirectory } from './approvers.ts';
import { cardLink, cardMessage, changeLine, finalLine, groupWho } from './blocks/card.ts';
import { rolloutCardMessage } from './rollout-card.ts';

const FINAL: readonly DeployEvent[] = ['succeeded', 'failed', 'interrupted'];
/** Ends that are said in the #deployments thread when there is one (an approval request started it). */
const ENDS_IN_THREAD: readonly DeployEvent[] = ['rejected', 'expired', 'cancelled'];

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

  /**
   * The approvers (their user ids or user groups) mentioned in #deployments with a link to the card:
   * the root of the thread that later carries start and outcome (an emergency's group: in the thread).
   */
  async #askApprovers(op: Operation, head: string): Promise<void> {
    const rule = parseRule(op.approvalRule);
    if (!rule) return;
    const approvals = await this.#services.repos.approvals.listFor(op.id);
    const p = progress(
      rule,
      approvals
        .filter((a) => a.decision === 'approved')
        .map((a) => ({ approver: a.approver, groups: a.group.split(',').filter(Boolean) })),
    );
    const { approvers } = this.#services.config;
    const groups = p.missingGroups.map((g) => groupWho(g, approvers));
    const others = p.missing - p.missingGroups.length;
    const needs = [...groups, ...(others > 0 ? [`${others} approver${others === 1 ? '' : 's'}`] : [])];
    const emergency = op.emergencyReason
      ? ` :rotating_light: *emergency*: ${escapeMrkdwn(op.emergencyReason)} ·`
      : '';
    const text = `:raised_hand: ${head} needs approval from ${needs.join(', ')}:${emergency} asked by <@${op.requestedBy}>: ${changeLine(op)}${op.reason ? ` · why: ${escapeMrkdwn(op.reason)}` : ''} · approve or reject on ${cardLink(op)}`;
    if (op.noticeChannelId && op.noticeTs) {
      await this.#client.chat.postMessage({
        channel: op.noticeChannelId,
        thread_ts: op.noticeTs,
        text,
        reply_broadcast: true,
      });
      return;
    }
    const posted = await this.#client.chat.postMessage({
      channel: this.#services.config.channels.deployments,
      text,
    });
    if (posted.ts && posted.channel) await this.deploy?.attachNotice(op, posted.channel, posted.ts);
  }

  async #cardAndDeployments(op: Operation, event: DeployEvent): Promise<void> {
    const { slackRate, logger, config } = this.#services;
    if (op.cardChannelId && op.cardTs) {
      const channel = op.cardChannelId;
      const ts = op.cardTs;
      const context = await cardContext(this.#services, op);
      // Not awaited: the limiter spaces a message's updates (1 s apart) and coalesces them (latest
      // wins), and the operation must not wait for that; stopping waits for queued updates.
      void slackRate
        .updateMessage(this.#client, { channel, ts }, async () => ({
          channel,
          ts,
          // A roll-out's card shows its progress (src/slack/deploy/rollout-card.ts).
          ...(op.kind === 'rollout'
            ? rolloutCardMessage(op, await this.#services.repos.rollouts.get(op.id), context)
            : cardMessage(op, context)),
        }))
        .catch((error: unknown) =>
          logger.warn({ err: error, operation: op.id }, 'could not update the deploy card'),
        );
    }
    const head = `*${escapeMrkdwn(op.service)}* (${escapeMrkdwn(op.environment)}) ${op.kind}`;
    if ((event === 'awaiting_approval' || event === 'emergency') && op.state === 'awaiting_approval') {
      await this.#askApprovers(op, head);
      return;
    }
    if (event === 'blocked' && op.state === 'approved' && op.noticeChannelId && op.noticeTs) {
      await this.#client.chat.postMessage({
        channel: op.noticeChannelId,
        thread_ts: op.noticeTs,
        text: `:no_entry: Approved, but it did not start: ${escapeMrkdwn(gateText(op.gate ?? {}))}. ${cardLink(op)} offers "Request as emergency".`,
      });
      return;
    }
    if (ENDS_IN_THREAD.includes(event) && op.noticeChannelId && op.noticeTs) {
      await this.#client.chat.postMessage({
        channel: op.noticeChannelId,
        thread_ts: op.noticeTs,
        text: `:no_entry_sign: ${finalLine(op)}`,
      });
      return;
    }
    if (event === 'started' && op.noticeChannelId && op.noticeTs) {
      await this.#client.chat.postMessage({
        channel: op.noticeChannelId,
        thread_ts: op.noticeTs,
        text: `:arrows_counterclockwise: ${head} started (approved; asked by <@${op.requestedBy}>): ${changeLine(op)}`,
      });
      return;
    }
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
    approvers: new SlackApproverDirectory(services, client),
  });
  notifier.deploy = deploy;
  return deploy;
}
