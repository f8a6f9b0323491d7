import type { Subcommand } from '../src/slack/kit/command.ts';
import { buildHelp } from '../src/slack/kit/help.ts';

/** `help`: lists the command's subcommands with one-line usage (also what an empty command shows). */
export const help: Subcommand = {
  name: 'help',
  aliases: ['?', '-h', '--help'],
  usage: 'help',
  summary: 'list these commands',
  run: (invocation) => invocation.reply(buildHelp(invocation.spec)),
};
