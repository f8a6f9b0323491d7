import { operationSubcommand, usageError } from '../../src/slack/deploy/subcommand.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

const USAGE = 'scale <service> [environment] <replicas> [because <reason>]';

/** `/deploy scale`: to N replicas within services[].scaling, after a confirmation card. */
export const deployScale = operationSubcommand({
  name: 'scale',
  usage: USAGE,
  summary: 'scale to N replicas (within the configured bounds), after you confirm',
  parse(rest, service) {
    const [n, ...extra] = rest;
    if (n === undefined || extra.length > 0) throw usageError(USAGE);
    const replicas = /^\d+$/.test(n) ? Number(n) : Number.NaN;
    const { min, max } = service.scaling;
    if (!Number.isInteger(replicas) || replicas < min || replicas > max) {
      throw new UserInputError(
        `${service.name} (${service.environment}) may run ${min} to ${max} replicas (services[].scaling): "${n.slice(0, 20)}" is outside that. Nothing was changed.`,
      );
    }
    return { kind: 'scale', replicas };
  },
});
