import { parseDuration } from '../../src/config/duration.ts';
import { ROLLOUT_INSTEAD } from '../../src/deploy/rollout-plan.ts';
import { operationSubcommand, usageError } from '../../src/slack/deploy/subcommand.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';

const USAGE =
  'rollout <service> [environment] <revision> [--steps 10,50,100] [--interval 5m] [because <reason>]';

const MIN_INTERVAL_MS = 30_000;

/** `/deploy rollout`: traffic to an already deployed revision in steps, analysed between them, after a card. */
export const deployRollout = operationSubcommand({
  name: 'rollout',
  usage: USAGE,
  summary:
    'shift traffic to a deployed revision in steps (Cloud Run, App Service), rolled back by itself on failure',
  parse(rest, service) {
    const instead = ROLLOUT_INSTEAD[service.platform.kind];
    if (instead) {
      throw new UserInputError(
        `Gradual roll-outs are not supported on ${escapeMrkdwn(service.name)}: ${instead}. Nothing was changed.`,
      );
    }
    let revision: string | undefined;
    let steps: number[] | undefined;
    let intervalMs: number | undefined;
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i] ?? '';
      if (word === '--steps') {
        const text = rest[++i] ?? '';
        const list = text.split(',').map((p) => Number(p.replace(/%$/, '')));
        const ok =
          list.length > 0 &&
          list.every(
            (p, j) => Number.isInteger(p) && p >= 1 && p <= 100 && (j === 0 || p > (list[j - 1] ?? 0)),
          ) &&
          list.at(-1) === 100;
        if (!ok) {
          throw new UserInputError(
            `"${escapeMrkdwn(text.slice(0, 40))}" is not a list of steps: write ascending percentages ending at 100, such as \`--steps 10,50,100\`. Nothing was changed.`,
          );
        }
        steps = list;
      } else if (word === '--interval') {
        const text = rest[++i] ?? '';
        const ms = parseDuration(text);
        if (ms === undefined || ms < MIN_INTERVAL_MS) {
          throw new UserInputError(
            `"${escapeMrkdwn(text.slice(0, 40))}" is not an interval of at least 30s: write it like \`--interval 5m\`. Nothing was changed.`,
          );
        }
        intervalMs = ms;
      } else if (!revision && /^[A-Za-z0-9][\w.:-]*$/.test(word)) {
        revision = word;
      } else {
        throw usageError(USAGE);
      }
    }
    if (!revision) throw usageError(USAGE);
    return {
      kind: 'rollout',
      toRevision: revision,
      ...(steps ? { steps } : {}),
      ...(intervalMs !== undefined ? { intervalMs } : {}),
    };
  },
});
