import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { requireAffectedServices, runIncidentHealthCheck } from '../../src/slack/incidents/health.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';

/**
 * `/incident health [INC-42]`: checks the incident's affected services, posts the result in its
 * channel and records it on the timeline.
 */
export const incidentHealth: Subcommand = {
  name: 'health',
  usage: 'health [INC-42]',
  summary: "check the health of the incident's affected services and post it in the channel",
  async run(invocation) {
    const { incident } = await incidentOfCommand(invocation);
    requireAffectedServices(incident);
    if (!(await invocation.ackOnce())) return;
    await runIncidentHealthCheck(
      invocation.services,
      invocation.client,
      incident,
      invocation.payload.user_id,
    );
  },
};
