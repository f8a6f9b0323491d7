import { operationSubcommand, usageError } from '../../src/slack/deploy/subcommand.ts';

const USAGE = 'maintenance <service> [environment] on|off [because <reason>]';

/**
 * `/deploy maintenance`: the service's maintenance switch (an environment-variable rollout on
 * Kubernetes, a slot-sticky app setting on App Service), after a confirmation card.
 */
export const deployMaintenance = operationSubcommand({
  name: 'maintenance',
  usage: USAGE,
  summary: 'turn maintenance mode on or off, after you confirm',
  parse(rest) {
    const [word, ...extra] = rest;
    const on = word?.toLowerCase();
    if ((on !== 'on' && on !== 'off') || extra.length > 0) throw usageError(USAGE);
    return { kind: 'maintenance', on: on === 'on' };
  },
});
