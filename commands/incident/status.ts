import type { Subcommand } from '../../src/slack/command.ts';
import { incidentOfCommand } from '../../src/slack/incident-context.ts';
import { headlineFor } from '../../src/slack/incidents/incident-slack.ts';

/** `status`: the incident's headline (current state), privately. */
export const status: Subcommand = {
  name: 'status',
  aliases: ['show'],
  usage: 'status [INC-42]',
  summary: "show the incident's current state",
  async run(invocation) {
    const { services } = invocation;
    const { incident } = await incidentOfCommand(invocation);
    await invocation.reply(await headlineFor(services, incident));
  },
};
