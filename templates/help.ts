/** Texts of the help and "unknown subcommand" answers. */

export const helpTitle = (command: string): string => `${command} commands`;

export const helpUsageLine = (command: string, usage: string, summary: string): string =>
  `\`${command} ${usage}\` — ${summary}`;

export const helpFooter = (command: string): string =>
  `Type \`${command} help\` any time to see this list again.`;

export const unknownSubcommand = (command: string, word: string, suggestions: readonly string[]): string => {
  const hint =
    suggestions.length > 0
      ? ` Did you mean ${suggestions.map((s) => `\`${command} ${s}\``).join(' or ')}?`
      : '';
  return `:thinking_face: \`${command} ${word}\` is not a ${command} subcommand.${hint} Type \`${command} help\` for the list.`;
};
