import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { deployCommand } from '../commands/deploy/index.ts';
import { incidentCommand } from '../commands/incident/index.ts';
import { httpRoutes } from './http/routes.ts';
import type { Services } from './services.ts';
import { countSlackApiError } from './slack/api-error-metric.ts';
import { boltLogger } from './slack/bolt-logger.ts';
import { registerHealthActions } from './slack/listeners/health-actions.ts';
import { registerIncidentActions } from './slack/listeners/incident-actions.ts';
import { registerInteractionMetrics } from './slack/listeners/interaction-metrics.ts';
import { registerReactionEvents } from './slack/listeners/reaction-events.ts';
import { registerSlashCommand } from './slack/listeners/slash-commands.ts';
import { registerTimelineActions } from './slack/listeners/timeline-actions.ts';

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

/** Builds the Bolt app and registers every listener. The entry point stays thin. */
export function createBot(services: Services, slack: SlackCredentials): Bot {
  const socketMode = Boolean(slack.appToken);
  const app = new App({
    token: slack.botToken,
    ...(socketMode
      ? { socketMode: true, appToken: slack.appToken, installerOptions: { port: services.env.PORT } }
      : { signingSecret: slack.signingSecret ?? '' }),
    endpoints: '/slack/events',
    customRoutes: httpRoutes(services),
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

  registerInteractionMetrics(app, services.metrics);
  registerSlashCommand(app, incidentCommand, services);
  registerSlashCommand(app, deployCommand, services);
  registerHealthActions(app, services);
  registerIncidentActions(app, services);
  registerReactionEvents(app, services);
  registerTimelineActions(app, services);

  return {
    app,
    async start(port) {
      const started = (await app.start(port)) as unknown;
      if (socketMode) return services.env.PORT;
      const address = (started as Server).address() as AddressInfo | null;
      return address?.port ?? port;
    },
    async stop() {
      await app.stop();
    },
  };
}
