/** What the /incident subcommands share: context for the flows, modals, where declaring is allowed. */
import type { ModalView } from '@slack/types';
import { declareNotAllowedHere } from '../../../templates/incident.ts';
import type { RunbookConfig } from '../../config/schema.ts';
import type { CommandInvocation } from '../kit/command.ts';
import { UserInputError } from '../kit/errors.ts';
import type { IncidentSlackContext } from './incident-slack.ts';

export function slackContext(invocation: CommandInvocation): IncidentSlackContext {
  return { client: invocation.client, services: invocation.services, logger: invocation.logger };
}

/** Opens a modal with the command's trigger id (valid 3 s), then acknowledges. */
export async function openModal(invocation: CommandInvocation, view: ModalView): Promise<void> {
  await invocation.client.views.open({ trigger_id: invocation.payload.trigger_id, view });
  await invocation.ack();
}

/** Refuses to declare outside the configured channels (`incidents.declareIn`). */
export function assertDeclareAllowed(
  config: RunbookConfig,
  channel: { id: string; name?: string | undefined },
): void {
  const allowed = config.incidents.declareIn;
  if (allowed === 'any') return;
  const ok = allowed.some((ref) =>
    ref.startsWith('#') ? ref.slice(1) === channel.name : ref === channel.id,
  );
  if (!ok)
    throw new UserInputError(declareNotAllowedHere(allowed.map((r) => (r.startsWith('#') ? r : `<#${r}>`))));
}

/** `<@U123|alice>` or `<@U123>` → U123. */
export function mentionedUser(word: string): string | undefined {
  return /^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$/.exec(word)?.[1];
}
