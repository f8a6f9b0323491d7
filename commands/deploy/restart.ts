import { operationSubcommand, usageError } from '../../src/slack/deploy/subcommand.ts';

const USAGE = 'restart <service> [environment] [because <reason>]';

/** `/deploy restart`: a rolling restart of the current revision, after a confirmation card. */
export const deployRestart = operationSubcommand({
  name: 'restart',
  usage: USAGE,
  summary: 'rolling restart of the current revision, after you confirm',
  parse(rest) {
    if (rest.length > 0) throw usageError(USAGE);
    return { kind: 'restart' };
  },
});
