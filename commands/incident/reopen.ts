import { incidentId } from '../../src/incidents/incident.ts';
import { slackContext } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { outcomeText, reopenFlow } from '../../src/slack/incidents/flows.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';

/** `reopen`: a resolved incident goes back to investigating. */
export const reopen: Subcommand = {
  name: 'reopen',
  usage: 'reopen [INC-42]',
  summary: 'reopen a resolved incident',
  async run(invocation) {
    const { payload } = invocation;
    const { incident } = await incidentOfCommand(invocation);
    if (!(await invocation.ackOnce())) return;
    const outcome = await reopenFlow(slackContext(invocation), incident.number, payload.user_id);
    await invocation.reply({
      text: outcomeText(outcome.incident, `${incidentId(incident.number)} reopened.`, outcome.failures),
    });
  },
};
