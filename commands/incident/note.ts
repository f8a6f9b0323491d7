import { escapeOneLine } from '../../src/slack/incidents/blocks/timeline.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { incidentId } from '../../src/store/repositories/incidents.ts';

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
    // One note per delivery, enforced by the timeline's unique source key: a Slack retry or the
    // same delivery reaching another replica adds nothing more.
    await services.repos.timeline.add({
      incidentNumber: incident.number,
      actor: payload.user_id,
      kind: 'note',
      text,
      sourceKey: payload.trigger_id ? `note:${payload.trigger_id}` : null,
    });
    await reply({ text: `:spiral_note_pad: Added to ${id}'s timeline: ${escapeOneLine(text, 500)}` });
  },
};
