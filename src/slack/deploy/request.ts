/** Shared by the /deploy subcommands and buttons that ask for a change: plan it, post its card. */
import type { WebClient } from '@slack/web-api';
import type { ServiceConfig } from '../../config/schema.ts';
import { type DeployRequest, PlanError } from '../../deploy/plan.ts';
import { type Incident, incidentId } from '../../incidents/incident.ts';
import { PlatformError } from '../../platform/errors.ts';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { cardContext } from './approvers.ts';
import { cardLink, cardMessage } from './blocks/card.ts';
import { deployServiceFor } from './notifier.ts';
import { assertMayOperate } from './permissions.ts';

/**
 * The incident the operation is for: the one named (`INC-42`), else the open incident whose channel
 * it was asked in; null when none.
 */
async function incidentFor(input: AskInput): Promise<Incident | null> {
  const { repos } = input.services;
  if (input.incidentNumber !== undefined && input.incidentNumber !== null) {
    const named = await repos.incidents.get(input.incidentNumber);
    if (!named) {
      throw new UserInputError(
        `There is no incident ${incidentId(input.incidentNumber)}. Nothing was changed.`,
        '`/incident list` shows the open ones.',
      );
    }
    return named;
  }
  if (!input.channelId) return null;
  const here = await repos.incidents.findByChannel(input.channelId);
  return here && here.status !== 'resolved' ? here : null;
}

export interface AskInput {
  services: Services;
  client: WebClient;
  service: ServiceConfig;
  request: DeployRequest;
  userId: string;
  channelId: string;
  reason?: string | undefined;
  incidentNumber?: number | null;
  idempotencyKey: string;
}

/** Posts the confirmation card in the channel; returns what to tell the requester privately. */
export async function askForOperation(input: AskInput): Promise<string> {
  await assertMayOperate(input.services, input.client, input.userId, input.service.environment);
  const incident = await incidentFor(input);
  const reason = input.reason ?? (incident ? `${incidentId(incident.number)}: ${incident.title}` : null);
  const deploy = deployServiceFor(input.services, input.client);
  let outcome: Awaited<ReturnType<typeof deploy.request>>;
  try {
    outcome = await deploy.request({
      service: input.service,
      request: input.request,
      requestedBy: input.userId,
      reason,
      incidentNumber: incident?.number ?? null,
      idempotencyKey: input.idempotencyKey,
    });
  } catch (error) {
    if (error instanceof PlanError) throw new UserInputError(escapeMrkdwn(error.message));
    if (error instanceof PlatformError) {
      throw new UserInputError(`${escapeMrkdwn(error.message)}. Nothing was changed.`);
    }
    throw error;
  }
  if (outcome.kind === 'busy') {
    const a = outcome.active;
    if (!a) return ':warning: Another operation on this service is just finishing; try again in a moment.';
    return `:no_entry: <@${a.requestedBy}> holds ${escapeMrkdwn(a.service)} (${escapeMrkdwn(a.environment)}): a ${a.kind}, ${a.state}, since ${a.createdAt.toISOString().slice(11, 19)} UTC (${cardLink(a, 'its card')}). One operation per service and environment at a time; nothing was changed.`;
  }
  if (outcome.kind === 'repeat') return 'That request was already received.';
  const card = cardMessage(outcome.operation, await cardContext(input.services, outcome.operation));
  const posted = await input.client.chat.postMessage({ channel: input.channelId, ...card });
  if (posted.ts && posted.channel) await deploy.attachCard(outcome.operation, posted.channel, posted.ts);
  if (outcome.operation.gate?.open === false) {
    return 'The card is in the channel: this change may not start now (the card says why and when it may). You can request it as an emergency there, or cancel it.';
  }
  return 'The confirmation card is in the channel: only you can confirm or cancel it.';
}
