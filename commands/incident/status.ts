import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { headlineFor } from '../../src/slack/incidents/incident-slack.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';

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
