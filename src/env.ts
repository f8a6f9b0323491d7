import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** The process environment, validated at start-up. */
export const envSchema = z
  .object({
    SLACK_BOT_TOKEN: optionalText.pipe(
      z
        .string()
        .regex(/^xoxb-/, 'a bot token starting with xoxb-')
        .optional(),
    ),
    SLACK_SIGNING_SECRET: optionalText.pipe(
      z.string().min(8, 'the signing secret from Basic Information').optional(),
    ),
    SLACK_APP_TOKEN: optionalText.pipe(
      z
        .string()
        .regex(/^xapp-/, 'an app-level token starting with xapp- (Socket Mode)')
        .optional(),
    ),
    SLACK_API_URL: optionalText.pipe(z.url('a URL such as https://slack.com/api/').optional()),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    /** A listener of its own for /metrics (keep it off the public ingress). */
    METRICS_PORT: optionalText.pipe(
      z.coerce.number<string | undefined>().int().min(0).max(65_535).optional(),
    ),
    /** Bearer token /metrics requires; with it, /metrics is also served on PORT. */
    METRICS_TOKEN: optionalText.pipe(
      z.string().min(16, 'a bearer token of at least 16 characters for /metrics').optional(),
    ),
    DATABASE_URL: optionalText.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection URL')
        .optional(),
    ),
    RUNBOOK_DATA_DIR: z.string().min(1).default('./data'),
    REDIS_URL: optionalText.pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
        .optional(),
    ),
    RUNBOOK_CONFIG: optionalText,
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_PORT'],
        message: 'must differ from PORT (unset it and set METRICS_TOKEN to serve /metrics on PORT)',
      });
    }
    if (env.SLACK_BOT_TOKEN && !env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
    if (!env.SLACK_BOT_TOKEN && (env.SLACK_APP_TOKEN || env.SLACK_SIGNING_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_BOT_TOKEN'],
        message: 'required when other Slack credentials are set (unset them all for local mode)',
      });
    }
  });

export type Env = z.output<typeof envSchema>;

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Parses the environment; a bad variable throws an EnvError with one line per variable. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new EnvError(`invalid environment: ${lines.join('; ')}`);
}

/** Local mode: no Slack credentials at all, so the bot runs against the built-in simulator. */
export function isLocalMode(env: Env): boolean {
  return !env.SLACK_BOT_TOKEN;
}
