import { incidentId } from '../../src/incidents/incident.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { asUserErrors } from '../../src/slack/incidents/flows.ts';
import { parseFollowupArgs } from '../../src/slack/incidents/followup-args.ts';
import { followupList } from '../../src/slack/incidents/postmortem.ts';
import type { CommandInvocation, Subcommand } from '../../src/slack/kit/command.ts';
import { escapeMrkdwn, slackDate, truncate } from '../../src/slack/kit/escape.ts';

async function run(invocation: CommandInvocation): Promise<void> {
  const { services, payload } = invocation;
  const { incident, rest } = await incidentOfCommand(invocation);
  const id = incidentId(incident.number);
  const request = parseFollowupArgs(rest, id, services.clock.now());
  if (request.verb === 'list') {
    await invocation.ack();
    await invocation.reply(followupList(incident, await services.postmortems.followups(incident.number)));
    return;
  }
  if (!(await invocation.ackOnce())) return;
  if (request.verb === 'add') {
    const followup = await asUserErrors(() =>
      services.postmortems.addFollowup(incident.number, {
        actor: payload.user_id,
        owner: request.owner,
        text: request.text,
        dueAt: request.dueAt,
      }),
    );
    const due = followup.dueAt
      ? `, due ${slackDate(followup.dueAt)} (<@${followup.owner}> is reminded then)`
      : '';
    await invocation.reply({
      text: `:ballot_box_with_check: Follow-up #${followup.number} of ${id} for <@${followup.owner}>${due}: ${escapeMrkdwn(truncate(followup.text, 500))}`,
    });
    return;
  }
  const outcome = await asUserErrors(() =>
    services.postmortems.completeFollowup(incident.number, request.number, { actor: payload.user_id }),
  );
  await invocation.reply({
    text: outcome.changed
      ? `:white_check_mark: Follow-up #${request.number} of ${id} is done: ${escapeMrkdwn(truncate(outcome.followup.text, 500))}`
      : `Follow-up #${request.number} of ${id} was done already.`,
  });
}

/** `followup [INC-n] add @owner <text> [due <date>] | list | done <n>`: the incident's action items. */
export const followup: Subcommand = {
  name: 'followup',
  aliases: ['follow-up', 'action'],
  usage: 'followup [INC-42] add @owner <what to do> [due YYYY-MM-DD] | list | done <n>',
  summary: 'action items of the incident: owners are reminded when they are due; listed on the post-mortem',
  run,
};
