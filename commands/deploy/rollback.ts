import { operationSubcommand, usageError } from '../../src/slack/deploy/subcommand.ts';

const USAGE = 'rollback <service> [environment] [to <revision>] [because <reason>]';

/** `/deploy rollback`: to the previous good revision (or the one named), after a confirmation card. */
export const deployRollback = operationSubcommand({
  name: 'rollback',
  usage: USAGE,
  summary: 'roll back to the previous good revision (or `to <revision>`), after you confirm',
  parse(rest) {
    if (rest.length === 0) return { kind: 'rollback' };
    if (rest[0]?.toLowerCase() !== 'to' || rest.length !== 2) throw usageError(USAGE);
    return { kind: 'rollback', toRevision: rest[1]! };
  },
});
