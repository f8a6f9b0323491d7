import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log object. */
const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_APP_TOKEN',
  '*.SLACK_SIGNING_SECRET',
  'METRICS_TOKEN',
  '*.METRICS_TOKEN',
  'headers.authorization',
  'headers.Authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  'req.headers["x-slack-signature"]',
];

/** Secrets that may hide inside free text: Slack tokens, bearer tokens, passwords in URLs. */
const TEXT_SECRETS: [RegExp, string][] = [
  [/xox[abposr]-[A-Za-z0-9-]+/g, 'xox*-[redacted]'],
  [/xapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[redacted]'],
  [/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, '$1[redacted]@'],
];

/** Removes secrets from a string (tokens, bearer credentials, URL passwords). */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactText(value.message),
      stack: value.stack && redactText(value.stack),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

export interface LoggerOptions {
  level?: string;
  /** Where JSON lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

/** Keys a logger writes on every line (base and child bindings), cached per logger. */
const boundKeys = new WeakMap<object, Set<string>>();

function keysBoundTo(logger: Logger): Set<string> {
  let keys = boundKeys.get(logger);
  if (!keys) {
    keys = new Set(Object.keys(logger.bindings()));
    boundKeys.set(logger, keys);
  }
  return keys;
}

/**
 * pino writes a key bound to the logger (base, child) and the same key of the logged object both,
 * and many log pipelines keep only one of them. A logged key equal to the bound value is dropped;
 * a different value is kept as `<key>2`.
 */
function withoutBoundKeys(logger: Logger, object: Record<string, unknown>): Record<string, unknown> {
  const bound = keysBoundTo(logger);
  if (!Object.keys(object).some((k) => bound.has(k))) return object;
  const bindings = logger.bindings();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (!bound.has(key)) out[key] = value;
    else if (bindings[key] !== value) out[`${key}2`] = value;
  }
  return out;
}

/**
 * pino JSON logs with secrets redacted by path and by pattern. Every line carries
 * `app: "runbook-bot"`; `service` is always a service of runbook.yml, never the bot itself.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'runbook-bot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a, i) =>
            typeof a === 'string'
              ? redactText(a)
              : i === 0 && a !== null && typeof a === 'object' && !(a instanceof Error) && !Array.isArray(a)
                ? withoutBoundKeys(this, a as Record<string, unknown>)
                : a,
          );
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? process.stdout,
  );
}
