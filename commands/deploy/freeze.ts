import { FREEZE_USAGE, freezeLine, parseFreeze } from '../../src/slack/deploy/freeze.ts';
import { deployServiceFor } from '../../src/slack/deploy/notifier.ts';
import { assertMayOperate } from '../../src/slack/deploy/permissions.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';

/** `/deploy freeze <env> [until <time>] <reason>`: only emergency requests pass; announced and audited. */
export const deployFreeze: Subcommand = {
  name: 'freeze',
  usage: FREEZE_USAGE,
  summary: 'freeze an environment: only emergency requests pass until it is lifted (or until the time given)',
  async run(invocation) {
    const { services, payload, client } = invocation;
    const input = parseFreeze(services, invocation.args);
    if (!(await invocation.ackOnce())) return;
    await assertMayOperate(services, client, payload.user_id, input.environment);
    const outcome = await deployServiceFor(services, client).freeze({ ...input, actor: payload.user_id });
    if (outcome.kind !== 'frozen') return;
    const line = freezeLine(outcome.freeze);
    await client.chat.postMessage({ channel: services.config.channels.deployments, text: line });
    await invocation.reply({
      text: `${line}${outcome.replaced ? ' (it replaces the freeze that was in force)' : ''}\nAnnounced in #deployments. \`/deploy unfreeze ${outcome.freeze.environment}\` lifts it.`,
    });
  },
};
