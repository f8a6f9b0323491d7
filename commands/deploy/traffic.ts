import { operationSubcommand, usageError } from '../../src/slack/deploy/subcommand.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';

const USAGE = 'traffic <service> [environment] <revision>=<percent> … [because <reason>]';

const INSTEAD: Record<string, string> = {
  kubernetes:
    'a Kubernetes Deployment has no traffic split between revisions: use `/deploy rollback` (or a service mesh)',
  appservice: 'App Service splits traffic between slots, not revisions: use `/deploy rollback` (a slot swap)',
};

/** `/deploy traffic`: Cloud Run's split between revisions, after a confirmation card. */
export const deployTraffic = operationSubcommand({
  name: 'traffic',
  usage: USAGE,
  summary: 'split traffic between revisions (Cloud Run), after you confirm',
  parse(rest, service) {
    const instead = INSTEAD[service.platform.kind];
    if (instead) {
      throw new UserInputError(
        `Traffic splitting is not supported on ${service.name}: ${instead}. Nothing was changed.`,
      );
    }
    if (rest.length === 0) throw usageError(USAGE);
    const targets = rest.map((word) => {
      const match = /^([A-Za-z0-9][\w.-]*)=(\d{1,3})%?$/.exec(word);
      if (!match)
        throw new UserInputError(`"${escapeMrkdwn(word.slice(0, 40))}" is not <revision>=<percent>.`);
      return { revision: match[1] ?? '', percent: Number(match[2]) };
    });
    const total = targets.reduce((sum, t) => sum + t.percent, 0);
    if (total !== 100)
      throw new UserInputError(`The percentages add up to ${total}, not 100. Nothing was changed.`);
    return { kind: 'traffic', targets };
  },
});
