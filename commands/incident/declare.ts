import { incidentId } from '../../src/incidents/incident.ts';
import { findSeverity, looksLikeSeverity, UnknownSeverityError } from '../../src/incidents/severity.ts';
import { buildDeclareModal } from '../../src/slack/incidents/blocks/declare-modal.ts';
import { assertDeclareAllowed, openModal, slackContext } from '../../src/slack/incidents/command-helpers.ts';
import { declareFlow, outcomeText } from '../../src/slack/incidents/flows.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';
import { alreadyDeclared, declaredReply } from '../../templates/incident.ts';

/** `declare`: with a severity and a title, declares at once; otherwise opens the declare modal. */
export const declare: Subcommand = {
  name: 'declare',
  aliases: ['new'],
  usage: 'declare [P0-P3] [title]',
  summary: 'declare an incident (no text: a form)',
  async run(invocation) {
    const { services, payload, args } = invocation;
    assertDeclareAllowed(services.config, { id: payload.channel_id, name: payload.channel_name });
    const [first = '', ...rest] = args.split(/\s+/);
    const severity = first ? findSeverity(first, services.config.severities) : undefined;
    if (!severity && first && looksLikeSeverity(first)) {
      throw new UserInputError(
        escapeMrkdwn(new UnknownSeverityError(first, services.config.severities).message),
      );
    }
    const title = (severity ? rest.join(' ') : args).trim();
    if (!severity || !title) {
      await openModal(
        invocation,
        buildDeclareModal({
          config: services.config,
          declarer: payload.user_id,
          metadata: { c: payload.channel_id },
          ...(title ? { title } : {}),
          ...(severity ? { severity: severity.name } : {}),
        }),
      );
      return;
    }
    await invocation.ack();
    const outcome = await declareFlow(slackContext(invocation), {
      title,
      severity: severity.name,
      declaredBy: payload.user_id,
      dedupeKey: `declare:command:${payload.trigger_id}`,
      createChannel: services.config.incidents.createChannel,
      replyChannelId: payload.channel_id,
    });
    const id = incidentId(outcome.incident.number);
    const { where } = outcome;
    await invocation.reply({
      text: outcomeText(
        outcome.incident,
        outcome.created ? declaredReply({ id, where }) : alreadyDeclared({ id, where }),
        outcome.failures,
      ),
    });
  },
};
