/** `<service> [environment] …` of the /deploy subcommands. */
import type { ServiceConfig } from '../../config/schema.ts';
import { parseIncidentId } from '../../incidents/incident.ts';
import type { Services } from '../../services.ts';
import { findConfiguredService } from '../health/lookup.ts';
import { UserInputError } from '../kit/errors.ts';

export interface TargetArgs {
  service: ServiceConfig;
  /** The words after the service (and environment). */
  rest: string[];
  /** Text after `because`, if any. */
  reason: string | undefined;
  /** `INC-42` among the words: the incident the operation is for. */
  incidentNumber: number | undefined;
}

export function parseTarget(
  services: Pick<Services, 'health' | 'config'>,
  subcommand: string,
  usage: string,
  args: string,
): TargetArgs {
  const [before, ...because] = args.split(/\s+because\s+/i);
  const all = (before ?? '').split(/\s+/).filter((w) => w.length > 0);
  const named = all.find((w) => /^inc-\d{1,9}$/i.test(w));
  const words = all.filter((w) => w !== named);
  const [name, maybeEnv, ...more] = words;
  if (!name) throw new UserInputError(`Name a service: \`/deploy ${usage}\`.`);
  const environments = services.config.services.filter((s) => s.name === name).map((s) => s.environment);
  const hasEnv = maybeEnv !== undefined && environments.includes(maybeEnv);
  const service = findConfiguredService(services.health, name, hasEnv ? maybeEnv : undefined, subcommand);
  const rest = hasEnv ? more : words.slice(1);
  const reason = because.length > 0 ? because.join(' because ').trim() : undefined;
  const incidentNumber = named ? (parseIncidentId(named) ?? undefined) : undefined;
  return { service, rest, reason: reason || undefined, incidentNumber };
}
