/** A /deploy subcommand that asks for a change: parse → ack → plan and post the card → answer privately. */
import type { ServiceConfig } from '../../config/schema.ts';
import type { DeployRequest } from '../../deploy/plan.ts';
import type { Subcommand } from '../kit/command.ts';
import { UserInputError } from '../kit/errors.ts';
import { digest } from '../kit/once.ts';
import { parseTarget } from './args.ts';
import { askForOperation } from './request.ts';

export function operationSubcommand(spec: {
  name: string;
  usage: string;
  summary: string;
  /** The request from the words after the service; throw UserInputError for bad input. */
  parse(rest: string[], service: ServiceConfig): DeployRequest;
}): Subcommand {
  return {
    name: spec.name,
    usage: spec.usage,
    summary: spec.summary,
    async run(invocation) {
      const { payload, services } = invocation;
      const { service, rest, reason, incidentNumber } = parseTarget(
        services,
        spec.name,
        spec.usage,
        invocation.args,
      );
      const request = spec.parse(rest, service);
      if (!(await invocation.ackOnce())) return;
      const text = await askForOperation({
        services,
        client: invocation.client,
        service,
        request,
        userId: payload.user_id,
        channelId: payload.channel_id,
        reason,
        incidentNumber,
        idempotencyKey: `slash:${digest(payload.trigger_id)}`,
      });
      await invocation.reply({ text });
    },
  };
}

export function usageError(usage: string): UserInputError {
  return new UserInputError(`Usage: \`/deploy ${usage}\`.`);
}
