/**
 * The ack-latency baseline: a bare Bolt 5 app that only acknowledges `/incident` and `/deploy`.
 * Same receiver (HTTPReceiver on /slack/events), same signing secret and same Web API (the bench's
 * Slack simulator) as the bot, plus a GET /health so both start-ups are measured the same way.
 *
 *   PORT=3100 SLACK_SIGNING_SECRET=… SLACK_BOT_TOKEN=xoxb-… SLACK_API_URL=http://127.0.0.1:…/api/ \
 *     node bench/lib/bare-bolt.ts
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, LogLevel } from '@slack/bolt';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535),
    SLACK_SIGNING_SECRET: z.string().min(8),
    SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/),
    SLACK_API_URL: z.url().optional(),
  })
  .parse(process.env);

const app = new App({
  token: env.SLACK_BOT_TOKEN,
  signingSecret: env.SLACK_SIGNING_SECRET,
  endpoints: '/slack/events',
  logLevel: LogLevel.WARN,
  ...(env.SLACK_API_URL ? { clientOptions: { slackApiUrl: env.SLACK_API_URL } } : {}),
  customRoutes: [
    {
      path: '/health',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"healthy"}');
      },
    },
  ],
});

app.command('/incident', async ({ ack }) => ack());
app.command('/deploy', async ({ ack }) => ack());

await app.start(env.PORT);

const shutdown = (): void => {
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
