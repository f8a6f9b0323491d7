import { PlatformError } from '../../src/platform/errors.ts';
import type { PlatformStatus } from '../../src/platform/platform.ts';
import { recentAndIncidents } from '../../src/slack/deploy/status-extra.ts';
import { findConfiguredService } from '../../src/slack/health/lookup.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';
import { escapeMrkdwn } from '../../src/slack/kit/escape.ts';
import {
  platformNames,
  statusDetails,
  statusFailed,
  statusHeadline,
  statusTimedOut,
} from '../../templates/deploy-status.ts';

/**
 * Longest wait for the platform's answer. Above the adapters' own deadline for getting credentials
 * (2 s on Cloud Run), so that their plain words reach the user rather than a bare timeout.
 */
export const STATUS_DEADLINE_MS = 4_000;

class StatusDeadline extends Error {}

/** `/deploy status <service> [environment]`: what the service's platform reports, read only. */
export const deployStatus: Subcommand = {
  name: 'status',
  usage: 'status <service> [environment]',
  summary: "what the service's platform reports: readiness, revision, image, traffic, replicas",
  async run(invocation) {
    const [name, environment, ...extra] = invocation.args.split(/\s+/).filter((w) => w.length > 0);
    if (!name || extra.length > 0) {
      throw new UserInputError('Name one service: `/deploy status <service> [environment]`.');
    }
    const service = findConfiguredService(invocation.services.health, name, environment, 'status');
    await invocation.ack();
    const platform = platformNames[service.platform.kind];
    const reading = invocation.services.platforms.for(service).then((p) => p.status());
    // Past the deadline nobody waits for it, but its failure must still be handled.
    reading.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new StatusDeadline()), STATUS_DEADLINE_MS);
    });
    let status: PlatformStatus;
    try {
      status = await Promise.race([reading, deadline]);
    } catch (error) {
      if (error instanceof StatusDeadline) {
        const seconds = STATUS_DEADLINE_MS / 1000;
        return invocation.reply({
          text: statusTimedOut({ service: escapeMrkdwn(service.name), platform, seconds }),
        });
      }
      if (error instanceof PlatformError) {
        invocation.logger.warn({ code: error.code, service: service.name }, error.message);
        return invocation.reply({ text: statusFailed(escapeMrkdwn(error.message)) });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const traffic = status.traffic?.map((t) => `${t.revision} ${t.percent}%`).join(', ');
    const count = (n: number | undefined) => (n === undefined ? '?' : String(n));
    const text = [
      statusHeadline({
        ready: status.ready,
        service: escapeMrkdwn(service.name),
        environment: escapeMrkdwn(service.environment),
        platform,
        target: escapeMrkdwn(status.target),
        reason: status.reason === undefined ? undefined : escapeMrkdwn(status.reason),
      }),
      statusDetails({
        revision: escapeMrkdwn(status.revision ?? 'unknown'),
        image: escapeMrkdwn(status.image ?? 'unknown'),
        traffic: traffic ? escapeMrkdwn(traffic) : undefined,
        replicas: `${count(status.replicas.desired)} desired, ${count(status.replicas.ready)} ready`,
        maintenance: status.maintenance,
      }),
      ...(await recentAndIncidents(invocation.services, service.name, service.environment)),
    ].join('\n');
    await invocation.reply({ text });
  },
};
