/** `/deploy freeze <env> [until <time>] <reason>` and `/deploy unfreeze <env>`: parse, render, announce. */
import { parseZonedTime } from '../../deploy/windows.ts';
import type { Services } from '../../services.ts';
import type { Freeze } from '../../store/repositories/freezes.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn, slackDate } from '../kit/escape.ts';

export const FREEZE_USAGE = 'freeze <environment> [until <YYYY-MM-DD[THH:MM]> | until <HH:MM>] <reason>';
export const UNFREEZE_USAGE = 'unfreeze <environment>';

/** Environments the config knows: of services, approval rules and windows. */
export function knownEnvironments(services: Pick<Services, 'config'>): string[] {
  const { config } = services;
  return [
    ...new Set([
      ...config.services.map((s) => s.environment),
      ...Object.keys(config.approvals),
      ...Object.keys(config.deploy.windows),
    ]),
  ];
}

function environmentOf(services: Pick<Services, 'config'>, word: string | undefined, usage: string): string {
  if (!word) throw new UserInputError(`Name an environment: \`/deploy ${usage}\`.`);
  const known = knownEnvironments(services);
  if (!known.includes(word)) {
    throw new UserInputError(
      `There is no environment "${escapeMrkdwn(word)}": the config knows ${known.map((e) => `\`${escapeMrkdwn(e)}\``).join(', ')}.`,
      `\`/deploy ${usage}\``,
    );
  }
  return word;
}

export function parseFreeze(
  services: Pick<Services, 'config' | 'clock'>,
  args: string,
): { environment: string; until: Date | null; reason: string } {
  const [envWord, ...rest] = args.split(/\s+/).filter((w) => w.length > 0);
  const environment = environmentOf(services, envWord, FREEZE_USAGE);
  let until: Date | null = null;
  let words = rest;
  if (words[0]?.toLowerCase() === 'until') {
    const text = words[1] ?? '';
    const now = services.clock.now();
    until = parseZonedTime(services.config.deploy, text, now);
    if (!until) {
      throw new UserInputError(
        `"${escapeMrkdwn(text)}" is not a time: write \`until 2026-12-24\`, \`until 2026-12-24T18:00\` or \`until 18:00\` (in the deploy time zone).`,
        `\`/deploy ${FREEZE_USAGE}\``,
      );
    }
    if (until <= now) throw new UserInputError(`${slackDate(until)} has passed: name a time to come.`);
    words = words.slice(2);
  }
  const reason = words.join(' ').trim();
  if (!reason) throw new UserInputError(`Say why it is frozen: \`/deploy ${FREEZE_USAGE}\`.`);
  return { environment, until, reason: reason.slice(0, 500) };
}

export function parseUnfreeze(services: Pick<Services, 'config'>, args: string): { environment: string } {
  const [envWord, ...extra] = args.split(/\s+/).filter((w) => w.length > 0);
  if (extra.length > 0) throw new UserInputError(`Usage: \`/deploy ${UNFREEZE_USAGE}\`.`);
  return { environment: environmentOf(services, envWord, UNFREEZE_USAGE) };
}

/** ":ice_cube: production is frozen by @alice until …: reason." */
export function freezeLine(freeze: Freeze): string {
  return `:ice_cube: *${escapeMrkdwn(freeze.environment)} is frozen* by <@${freeze.frozenBy}>${freeze.until ? ` until ${slackDate(freeze.until)}` : ' until lifted'}: ${escapeMrkdwn(freeze.reason)}. Only emergency requests pass.`;
}
