import { incidentId } from '../../src/incidents/incident.ts';
import { slackContext } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { asUserErrors, outcomeText } from '../../src/slack/incidents/flows.ts';
import { draftPostmortemFlow } from '../../src/slack/incidents/postmortem.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { slackDate } from '../../src/slack/kit/escape.ts';

/** `postmortem [INC-n]`: drafts the post-mortem from the record, posted with its Markdown file. */
export const postmortem: Subcommand = {
  name: 'postmortem',
  aliases: ['post-mortem', 'pm'],
  usage: 'postmortem [INC-42]',
  summary: "draft the post-mortem from the incident's record (posted in its channel, with a Markdown file)",
  async run(invocation) {
    const { payload, services } = invocation;
    const { incident, rest } = await incidentOfCommand(invocation);
    const id = incidentId(incident.number);
    if (rest.trim() !== '') {
      throw new UserInputError(
        '`/incident postmortem` takes only the incident.',
        `Usage: \`/incident postmortem ${id}\` (or just \`/incident postmortem\` in its channel).`,
      );
    }
    await asUserErrors(async () => services.postmortems.assertDraftable(incident));
    if (!(await invocation.ackOnce())) return;
    const outcome = await draftPostmortemFlow(slackContext(invocation), incident.number, payload.user_id);
    const where = outcome.message ? `<#${outcome.message.channelId}>` : 'nowhere in Slack';
    const due =
      outcome.postmortem.status === 'complete'
        ? 'it was marked complete before'
        : `it is due ${slackDate(outcome.postmortem.dueAt)}`;
    await invocation.reply({
      text: outcomeText(
        outcome.incident,
        `:books: Drafted ${id}'s post-mortem in ${where}${outcome.fileId ? ', with the Markdown file' : ''}; ${due}.`,
        outcome.failures,
      ),
    });
  },
};
