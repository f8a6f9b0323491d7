import { parseTarget } from '../../src/slack/deploy/args.ts';
import { askForOperation } from '../../src/slack/deploy/request.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { digest } from '../../src/slack/kit/once.ts';

const USAGE = 'rollback <service> [environment] [to <revision>] [because <reason>]';

/** `/deploy rollback`: to the previous good revision (or the one named), after a confirmation card. */
export const deployRollback: Subcommand = {
  name: 'rollback',
  usage: USAGE,
  summary: 'roll back to the previous good revision (or `to <revision>`), after you confirm',
  async run(invocation) {
    const { payload, services } = invocation;
    const { service, rest, reason, incidentNumber } = parseTarget(
      services,
      'rollback',
      USAGE,
      invocation.args,
    );
    let toRevision: string | undefined;
    if (rest.length > 0) {
      if (rest[0]?.toLowerCase() !== 'to' || rest.length !== 2) {
        throw new UserInputError(`Usage: \`/deploy ${USAGE}\`.`);
      }
      toRevision = rest[1];
    }
    if (!(await invocation.ackOnce())) return;
    const text = await askForOperation({
      services,
      client: invocation.client,
      service,
      request: { kind: 'rollback', ...(toRevision !== undefined ? { toRevision } : {}) },
      userId: payload.user_id,
      channelId: payload.channel_id,
      reason,
      incidentNumber,
      idempotencyKey: `slash:${digest(payload.trigger_id)}`,
    });
    await invocation.reply({ text });
  },
};
