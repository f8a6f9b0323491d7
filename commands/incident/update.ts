import { incidentId } from '../../src/incidents/incident.ts';
import { buildUpdateModal } from '../../src/slack/incidents/blocks/update-modal.ts';
import { openModal } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

/** `update`: opens the status update modal (status, impact, next step, next update). */
export const update: Subcommand = {
  name: 'update',
  usage: 'update [INC-42]',
  summary: 'post a status update (a form)',
  async run(invocation) {
    const { services, payload } = invocation;
    const { incident } = await incidentOfCommand(invocation);
    if (incident.status === 'resolved') {
      throw new UserInputError(
        `${incidentId(incident.number)} is resolved.`,
        `Reopen it first: \`/incident reopen ${incidentId(incident.number)}\`.`,
      );
    }
    const cadenceMs = services.incidents.severity(incident.severity).updateCadence;
    await openModal(
      invocation,
      buildUpdateModal({ incident, cadenceMs, metadata: { n: incident.number, c: payload.channel_id } }),
    );
  },
};
