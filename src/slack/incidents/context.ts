import { notInIncident } from '../../../templates/incident.ts';
import { type Incident, parseIncidentId } from '../../incidents/incident.ts';
import type { Services } from '../../services.ts';
import type { CommandInvocation } from '../kit/command.ts';
import { UserInputError } from '../kit/errors.ts';

/**
 * The incident a command is about: named first in the arguments (`INC-42`), else the incident whose
 * channel the command was typed in. Returns the rest of the arguments.
 */
export async function findIncidentFor(
  services: Services,
  where: { channelId: string; args: string },
): Promise<{ incident: Incident | null; rest: string }> {
  const [first = '', ...others] = where.args.split(/\s+/);
  if (!/^inc-\d+$/i.test(first))
    return { incident: await services.repos.incidents.findByChannel(where.channelId), rest: where.args };
  // Too many digits to be an incident number (never sent to Postgres): no such incident either.
  const named = parseIncidentId(first);
  const incident = named === null ? null : await services.repos.incidents.get(named);
  if (!incident)
    throw new UserInputError(
      `There is no incident ${first.toUpperCase().slice(0, 30)}.`,
      '`/incident list` shows the open ones.',
    );
  return { incident, rest: others.join(' ') };
}

/** Like findIncidentFor, but a command used outside an incident gets a clear answer. */
export async function requireIncident(
  services: Services,
  where: { channelId: string; args: string; command: string },
): Promise<{ incident: Incident; rest: string }> {
  const { incident, rest } = await findIncidentFor(services, where);
  if (!incident) throw new UserInputError(notInIncident(where.command));
  return { incident, rest };
}

/** The incident a `/incident <sub>` invocation is about (see requireIncident). */
export function incidentOfCommand(
  invocation: CommandInvocation,
): Promise<{ incident: Incident; rest: string }> {
  return requireIncident(invocation.services, {
    channelId: invocation.payload.channel_id,
    args: invocation.args,
    command: `${invocation.command} ${invocation.subcommand}`,
  });
}
