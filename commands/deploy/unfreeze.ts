import { parseUnfreeze, UNFREEZE_USAGE } from '../../src/slack/deploy/freeze.ts';
import { deployServiceFor } from '../../src/slack/deploy/notifier.ts';
import { assertMayOperate } from '../../src/slack/deploy/permissions.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';

/** `/deploy unfreeze <env>`: lifts the freeze in force; announced and audited. */
export const deployUnfreeze: Subcommand = {
  name: 'unfreeze',
  usage: UNFREEZE_USAGE,
  summary: 'lift the freeze of an environment',
  async run(invocation) {
    const { services, payload, client } = invocation;
    const { environment } = parseUnfreeze(services, invocation.args);
    if (!(await invocation.ackOnce())) return;
    await assertMayOperate(services, client, payload.user_id, environment);
    const outcome = await deployServiceFor(services, client).unfreeze({
      environment,
      actor: payload.user_id,
    });
    const env = escapeMrkdwn(environment);
    if (outcome.kind !== 'unfrozen') {
      await invocation.reply({ text: `${env} is not frozen: nothing was changed.` });
      return;
    }
    const line = `:sunny: *${env} is no longer frozen*: lifted by <@${payload.user_id}> (it was frozen by <@${outcome.freeze.frozenBy}>: ${escapeMrkdwn(outcome.freeze.reason)}).`;
    await client.chat.postMessage({ channel: services.config.channels.deployments, text: line });
    await invocation.reply({ text: `${line}\nAnnounced in #deployments.` });
  },
};
