import { incidentId } from '../../src/incidents/incident.ts';
import { buildResolveModal } from '../../src/slack/incidents/blocks/resolve-modal.ts';
import { openModal } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

/** `resolve`: opens the resolve modal (resolution, root cause). */
export const resolve: Subcommand = {
  name: 'resolve',
  aliases: ['close'],
  usage: 'resolve [INC-42]',
  summary: 'resolve the incident (a form: resolution and root cause)',
  async run(invocation) {
    const { payload } = invocation;
    const { incident } = await incidentOfCommand(invocation);
    if (incident.status === 'resolved') {
      throw new UserInputError(`${incidentId(incident.number)} is already resolved.`);
    }
    await openModal(
      invocation,
      buildResolveModal({ incident, metadata: { n: incident.number, c: payload.channel_id } }),
    );
  },
};
