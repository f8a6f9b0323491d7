import { incidentId } from '../../src/incidents/incident.ts';
import { slackContext } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { escalateArgs, escalateFlow } from '../../src/slack/incidents/escalation.ts';
import { outcomeText } from '../../src/slack/incidents/flows.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';

/** `escalate [level] [reason]`: reaches the next level of the ladder (or the one named) by hand. */
export const escalate: Subcommand = {
  name: 'escalate',
  usage: 'escalate [INC-42] [level] [reason]',
  summary: 'escalate to the next level of the ladder (or the one named), with a reason',
  async run(invocation) {
    const { services, payload } = invocation;
    const { incident, rest } = await incidentOfCommand(invocation);
    const ladder = services.incidents.ladder(incident.severity);
    const levels = ladder.map((l) => `${l.level} ${escapeMrkdwn(l.name)}`).join(', ');
    const args = escalateArgs(rest, ladder);
    if (args.level !== undefined && !ladder.some((l) => l.level === args.level)) {
      throw new UserInputError(
        `The ladder of ${incident.severity} has no level ${args.level}.`,
        ladder.length > 0
          ? `Its levels: ${levels}. For example \`/incident escalate 2 database still down\`.`
          : `Set \`escalation.ladders.${incident.severity}\` (or \`escalation.levels\`) in the bot's config.`,
      );
    }
    if (args.reason.length > 500) throw new UserInputError('Keep the reason under 500 characters.');
    if (!(await invocation.ackOnce())) return;
    const { outcome, failures } = await escalateFlow(slackContext(invocation), incident.number, {
      actor: payload.user_id,
      ...(args.level !== undefined ? { level: args.level } : {}),
      reason: args.reason,
    });
    const done = `${incidentId(incident.number)} escalated to level ${outcome.level.level} of ${outcome.of}: ${escapeMrkdwn(
      outcome.level.name,
    )}${outcome.paged ? ' (paged in PagerDuty)' : ''}.`;
    await invocation.reply({ text: outcomeText(outcome.incident, done, failures) });
  },
};
