import { Blocks, Message } from 'slack-block-builder';
import { helpFooter, helpTitle, helpUsageLine } from '../../../templates/help.ts';
import type { Reply, SlashCommandSpec } from './command.ts';
import { escapeMrkdwn } from './escape.ts';

/** Help depends on the spec alone: built once per command, not on every `/incident help` before its ack. */
const built = new WeakMap<SlashCommandSpec, Reply>();

/** The help answer: one line of usage per subcommand. */
export function buildHelp(spec: SlashCommandSpec): Reply {
  let reply = built.get(spec);
  if (!reply) {
    reply = renderHelp(spec);
    built.set(spec, reply);
  }
  return reply;
}

function renderHelp(spec: SlashCommandSpec): Reply {
  const lines = spec.subcommands.map((s) => helpUsageLine(spec.command, escapeMrkdwn(s.usage), s.summary));
  const text = [`*${helpTitle(spec.command)}*`, spec.description, ...lines].join('\n');
  const message = Message({ text })
    .blocks(
      Blocks.Header({ text: helpTitle(spec.command) }),
      Blocks.Section({ text: spec.description }),
      Blocks.Section({ text: lines.join('\n') }),
      Blocks.Context().elements(helpFooter(spec.command)),
    )
    .buildToObject();
  return { text, blocks: message.blocks ?? [] } as Reply;
}
