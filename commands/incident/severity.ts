import { incidentId } from '../../src/incidents/incident.ts';
import { buildSeverityModal } from '../../src/slack/incidents/blocks/severity-modal.ts';
import { openModal, slackContext } from '../../src/slack/incidents/command-helpers.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { outcomeText, severityFlow } from '../../src/slack/incidents/flows.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { severityReasonMissing } from '../../templates/incident.ts';

/** `severity P0 <reason>`: changes the severity, with a reason (no text: a form). */
export const severity: Subcommand = {
  name: 'severity',
  aliases: ['sev'],
  usage: 'severity [INC-42] <P0-P3> <reason>',
  summary: 'change the severity (a reason is required)',
  async run(invocation) {
    const { services, payload } = invocation;
    const { incident, rest } = await incidentOfCommand(invocation);
    const [level = '', ...reasonWords] = rest.split(/\s+/).filter(Boolean);
    if (level === '') {
      await openModal(
        invocation,
        buildSeverityModal({
          incident,
          severities: services.config.severities,
          metadata: { n: incident.number, c: payload.channel_id },
        }),
      );
      return;
    }
    const reason = reasonWords.join(' ');
    if (reason === '') throw new UserInputError(severityReasonMissing);
    if (!(await invocation.ackOnce())) return;
    const outcome = await severityFlow(slackContext(invocation), incident.number, {
      actor: payload.user_id,
      severity: level,
      reason,
    });
    const id = incidentId(incident.number);
    await invocation.reply({
      text: outcome.changed
        ? outcomeText(outcome.incident, `${id} is now ${outcome.incident.severity}.`, outcome.failures)
        : `${id} already is ${outcome.incident.severity}.`,
    });
  },
};
