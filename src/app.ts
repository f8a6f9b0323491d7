import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import { deployCommand } from '../commands/deploy/index.ts';
import { incidentCommand } from '../commands/incident/index.ts';
import { ReadinessProbe } from './http/readiness.ts';
import { httpRoutes } from './http/routes.ts';
import type { Services } from './services.ts';
import { registerDeployActions } from './slack/deploy/actions.ts';
import { registerRolloutActions } from './slack/deploy/rollout-actions.ts';
import { registerDeployStatusActions } from './slack/deploy/status-actions.ts';
import { registerHealthActions } from './slack/health/actions.ts';
import { registerIncidentActions } from './slack/incidents/actions.ts';
import { registerIncidentHealthButton } from './slack/incidents/health-button.ts';
import { registerPostmortemActions } from './slack/incidents/postmortem.ts';
import { registerReactionEvents } from './slack/incidents/reactions.ts';
import { registerTimelineActions } from './slack/incidents/timeline-actions.ts';
import { countSlackApiError } from './slack/kit/api-error-metric.ts';
import { boltLogger } from './slack/kit/bolt-logger.ts';
import { registerInteractionMetrics } from './slack/kit/interaction-metrics.ts';
import { claimOnce, digest, SIGNATURE_DEADLINE_MS, SIGNATURE_TTL_MS } from './slack/kit/once.ts';
import { guardSlackRequests } from './slack/kit/request-guard.ts';
import { registerSlashCommand } from './slack/kit/slash-commands.ts';

export interface SlackCredentials {
  botToken: string;
  /** HTTP mode. */
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** Web API base URL (the simulator in local mode and tests). */
  apiUrl?: string;
}

export interface Bot {
  app: App;
  /** Starts listening; returns the port (useful with port 0). */
  start(port: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Bolt's HTTP receiver behind the request guard: timestamps more than 5 minutes off either way are
 * refused, and a signature seen before (a replay, one delivery reaching two replicas) runs nothing.
 * Signatures are remembered in Postgres, so every replica shares them and Redis is not needed.
 */
function guardedReceiver(
  services: Services,
  signingSecret: string,
  endpoints: string[],
  customRoutes: ReturnType<typeof httpRoutes>,
): HTTPReceiver {
  const receiver = new HTTPReceiver({
    signingSecret,
    // The guard below verifies every signature first, against the injected clock (Bolt's own check
    // reads the system clock, and takes requests stamped in the future).
    signatureVerification: false,
    endpoints,
    customRoutes,
    logger: boltLogger(services.logger),
    processBeforeResponse: false,
  });
  guardSlackRequests(receiver, {
    signingSecret,
    endpoints,
    clock: services.clock,
    logger: services.logger.child({ component: 'request-guard' }),
    remember: (signature) =>
      claimOnce(services, `signature:${digest(signature)}`, 'signature', SIGNATURE_TTL_MS, {
        deadlineMs: SIGNATURE_DEADLINE_MS,
      }),
  });
  return receiver;
}

/** Builds the Bolt app and registers every listener. The entry point stays thin. */
export function createBot(services: Services, slack: SlackCredentials): Bot {
  const socketMode = Boolean(slack.appToken);
  const endpoints = ['/slack/events'];
  const readiness = new ReadinessProbe(services);
  const customRoutes = httpRoutes(services, readiness);
  const app = new App({
    token: slack.botToken,
    ...(socketMode
      ? {
          socketMode: true,
          appToken: slack.appToken,
          installerOptions: { port: services.env.PORT },
          endpoints,
          customRoutes,
        }
      : { receiver: guardedReceiver(services, slack.signingSecret ?? '', endpoints, customRoutes) }),
    clientOptions: { ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}), retryConfig: { retries: 2 } },
    logger: boltLogger(services.logger),
    processBeforeResponse: false,
  });

  // 429s (counted, logged, Retry-After honoured by the rate limiter) of app.client and of the
  // pooled clients Bolt hands each listener.
  services.slackRate.observe(app.client);
  app.use(async ({ client, next }) => {
    services.slackRate.observe(client);
    await next();
  });
  app.error(async (error) => {
    countSlackApiError(services.metrics, error, 'listener');
    services.logger.error({ err: error }, 'unhandled error in a Slack listener');
  });

  // First: every request's handling, after its ack too, is in flight until it is done (stop waits).
  app.use(async ({ next }) => {
    await services.inFlight.track('slack request', next());
  });
  registerInteractionMetrics(app, services.metrics);
  registerSlashCommand(app, incidentCommand, services);
  registerSlashCommand(app, deployCommand, services);
  registerHealthActions(app, services);
  registerIncidentHealthButton(app, services);
  registerDeployActions(app, services);
  registerRolloutActions(app, services);
  registerDeployStatusActions(app, services);
  registerIncidentActions(app, services);
  registerReactionEvents(app, services);
  registerTimelineActions(app, services);
  registerPostmortemActions(app, services);

  return {
    app,
    async start(port) {
      readiness.start();
      const started = (await app.start(port)) as unknown;
      if (socketMode) return services.env.PORT;
      const address = (started as Server).address() as AddressInfo | null;
      return address?.port ?? port;
    },
    async stop() {
      readiness.stop();
      await app.stop();
    },
  };
}
