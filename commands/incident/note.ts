import { incidentId } from '../../src/incidents/incident.ts';
import { escapeOneLine } from '../../src/slack/incidents/blocks/timeline.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

/** `note [INC-n] <text>`: adds a note, with its author and UTC time, to the incident's timeline. */
export const note: Subcommand = {
  name: 'note',
  usage: 'note [INC-42] <what happened>',
  summary: "add a note to the incident's timeline",
  async run(invocation) {
    const { payload, services, reply } = invocation;
    const { incident, rest } = await incidentOfCommand(invocation);
    const text = rest.trim();
    const id = incidentId(incident.number);
    if (text === '') {
      throw new UserInputError(
        'A note needs some text.',
        `Usage: \`/incident note ${id} <what happened>\`, e.g. \`/incident note ${id} Failed over to the replica\`.`,
      );
    }
    // One note per delivery (its trigger id): a Slack retry or another replica adds nothing more.
    await services.incidents.addNote(incident.number, {
      actor: payload.user_id,
      text,
      deliveryKey: payload.trigger_id || null,
    });
    await reply({ text: `:spiral_note_pad: Added to ${id}'s timeline: ${escapeOneLine(text, 500)}` });
  },
};
