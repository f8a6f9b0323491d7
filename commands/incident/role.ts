import { incidentId } from '../../src/incidents/incident.ts';
import { buildRoleModal } from '../../src/slack/incidents/blocks/role-modal.ts';
import { mentionedUser, openModal, slackContext } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { outcomeText, roleFlow } from '../../src/slack/incidents/flows.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

/** `role @user commander`: assigns an incident role (no text: a form). */
export const role: Subcommand = {
  name: 'role',
  aliases: ['assign'],
  usage: 'role [INC-42] @user <role>',
  summary: 'assign an incident role (commander, communications lead, scribe…)',
  async run(invocation) {
    const { services, payload } = invocation;
    const { incident, rest } = await incidentOfCommand(invocation);
    const words = rest.split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      await openModal(
        invocation,
        buildRoleModal({
          incident,
          roles: services.config.incidents.roles,
          metadata: { n: incident.number, c: payload.channel_id },
        }),
      );
      return;
    }
    const userIndex = words.findIndex((w) => mentionedUser(w) !== undefined);
    const userId = userIndex >= 0 ? mentionedUser(words[userIndex] ?? '') : undefined;
    const roleWords = words.filter((_, i) => i !== userIndex).join(' ');
    if (!userId || roleWords === '') {
      throw new UserInputError(
        'Say who and which role, e.g. `/incident role @alice commander`.',
        `Roles: ${services.config.incidents.roles.join(', ')}.`,
      );
    }
    if (!(await invocation.ackOnce())) return;
    const outcome = await roleFlow(slackContext(invocation), incident.number, {
      actor: payload.user_id,
      role: roleWords,
      userId,
    });
    const id = incidentId(incident.number);
    await invocation.reply({
      text: outcome.changed
        ? outcomeText(outcome.incident, `<@${userId}> is now ${outcome.role} of ${id}.`, outcome.failures)
        : `<@${userId}> already is ${outcome.role} of ${id}.`,
    });
  },
};
