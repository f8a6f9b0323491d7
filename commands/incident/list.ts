import { buildIncidentList } from '../../src/slack/incidents/blocks/list.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';

/** `list`: open incidents with severity, age and commander. */
export const list: Subcommand = {
  name: 'list',
  aliases: ['ls', 'open'],
  usage: 'list',
  summary: 'list open incidents',
  async run(invocation) {
    const { services } = invocation;
    const open = await services.repos.incidents.listOpen();
    await invocation.reply(buildIncidentList(open, services.clock.now()));
  },
};
