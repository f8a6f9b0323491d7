import { freezeLine } from '../../src/slack/deploy/freeze.ts';
import {
  HEALTH_PENDING,
  healthSummary,
  platformStatusText,
  rolloutInProgress,
  statusReply,
} from '../../src/slack/deploy/status-extra.ts';
import { findConfiguredService } from '../../src/slack/health/lookup.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

/**
 * `/deploy status <service> [environment]`: what the service's platform reports and a health
 * summary, read only. Acks at once; answers as soon as the platform has; when the health checks
 * are still running then, a second answer brings their result. The last one has "Post to channel".
 */
export const deployStatus: Subcommand = {
  name: 'status',
  usage: 'status <service> [environment]',
  summary:
    "what the service's platform reports (readiness, revision, image, traffic, replicas) and its health",
  async run(invocation) {
    const [name, environment, ...extra] = invocation.args.split(/\s+/).filter((w) => w.length > 0);
    if (!name || extra.length > 0) {
      throw new UserInputError('Name one service: `/deploy status <service> [environment]`.');
    }
    const { services } = invocation;
    const service = findConfiguredService(services.health, name, environment, 'status');
    await invocation.ack();
    let health: string | undefined;
    const checking = healthSummary(services, service).then((line) => {
      health = line;
      return line;
    });
    const [freeze, rollout] = await Promise.all([
      services.repos.freezes.findActive(service.environment, services.clock.now()),
      rolloutInProgress(services, service),
    ]);
    const text = [
      ...(freeze ? [freezeLine(freeze)] : []),
      await platformStatusText(services, service),
      ...(rollout ? [rollout] : []),
    ].join('\n');
    if (health !== undefined) {
      return invocation.reply(statusReply(`${text}\n${health}`, service, { button: true }));
    }
    await invocation.reply(statusReply(`${text}\n${HEALTH_PENDING}`, service, { button: false }));
    const line = await checking;
    await invocation.reply(statusReply(`${text}\n${line}`, service, { button: true }));
  },
};
