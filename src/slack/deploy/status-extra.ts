/** What `/deploy status` adds to the platform's answer: the last operations and open incidents naming the service. */

import { incidentId } from '../../incidents/incident.ts';
import type { Services } from '../../services.ts';
import { escapeMrkdwn } from '../kit/escape.ts';

export async function recentAndIncidents(
  services: Pick<Services, 'repos' | 'logger'>,
  service: string,
  environment: string,
): Promise<string[]> {
  try {
    const [ops, incidents] = await Promise.all([
      services.repos.operations.listRecent({ service, environment, limit: 3 }),
      services.repos.incidents.listOpen(),
    ]);
    const lines: string[] = [];
    if (ops.length > 0) {
      lines.push(
        `Last operations: ${ops
          .map(
            (o) =>
              `${o.kind} ${o.state} (<@${o.requestedBy}>, ${o.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC)`,
          )
          .join(' · ')}`,
      );
    }
    const naming = incidents.filter((i) => i.affectedServices.includes(service));
    if (naming.length > 0) {
      lines.push(
        `Open incidents: ${naming.map((i) => `${incidentId(i.number)} ${escapeMrkdwn(i.title)}`).join(' · ')}`,
      );
    }
    return lines;
  } catch (error) {
    services.logger.warn({ err: error }, 'could not read the operations and incidents for /deploy status');
    return ['(the audit trail could not be read just now)'];
  }
}
