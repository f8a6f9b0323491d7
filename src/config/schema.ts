import { z } from 'zod';
import { durationSchema, YEAR_MS } from './duration.ts';
import { secretHeadersSchema, secretUrlSchema } from './secrets.ts';

/**
 * The organisation's runbook as configuration. Defaults are the numbers of the runbooks in
 * shared/runbooks (BARQ playbook severity ladder, Fleet health endpoint timeouts, BARQ deploy
 * windows and approval rules). Durations are strings such as "15m" and are parsed to milliseconds.
 */

const name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'use lowercase letters, digits and dashes (like a DNS label)');

/** A Slack channel, by name (`#incidents`) or by id (`C0123ABCD`). */
const channelRef = z
  .string()
  .regex(/^(#[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,})$/, 'use #channel-name or a channel id');

/** A Slack user id (`U…`, `W…`) or user-group id (`S…`), as approvers and escalation targets. */
const slackUserOrGroupId = z
  .string()
  .regex(/^[UWS][A-Z0-9_]+$/, 'a Slack user id (U…/W…) or user group id (S…)');

/**
 * A record keyed by environment, with defaults: the user's keys over the default keys, so giving one
 * environment keeps the defaults of the others. `fields`: an object value is also merged field by
 * field over its default; `replace`: a value replaces its default as a whole (lists). The merge runs
 * before validation, so every problem is still reported at the user's path.
 */
function byKeyOverDefaults<T extends z.ZodType>(
  schema: T,
  defaults: z.input<T> & Record<string, unknown>,
  values: 'fields' | 'replace',
) {
  return z
    .unknown()
    .optional()
    .transform((input): unknown => mergeByKey(defaults, input, values))
    .pipe(schema);
}

function mergeByKey(
  defaults: Record<string, unknown>,
  input: unknown,
  values: 'fields' | 'replace',
): unknown {
  if (input === undefined) return defaults;
  if (!isPlainObject(input)) return input;
  // A Map and Object.fromEntries, so that a `__proto__` key stays a plain key.
  const merged = new Map(Object.entries(defaults));
  for (const [key, value] of Object.entries(input)) {
    const base = merged.get(key);
    merged.set(
      key,
      values === 'fields' && isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value,
    );
  }
  return Object.fromEntries(merged);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------- severities

export const severitySchema = z.strictObject({
  name: z.string().regex(/^[A-Z][A-Z0-9]{0,9}$/, 'a short upper-case name such as P1 or SEV2'),
  label: z.string().min(1).max(40),
  definition: z.string().min(1).max(200),
  responseTime: durationSchema,
  updateCadence: durationSchema,
  /** How long the incident may stay unresolved before escalating to the next level. */
  escalationDelay: durationSchema,
  postMortemRequired: z.boolean().default(false),
  /** Emoji shown beside the severity. */
  emoji: z.string().default(':rotating_light:'),
});
export type SeverityConfig = z.output<typeof severitySchema>;

export const DEFAULT_SEVERITIES: z.input<typeof severitySchema>[] = [
  {
    name: 'P0',
    label: 'Critical',
    definition: 'Complete service outage (API down, database unreachable)',
    responseTime: '15m',
    updateCadence: '15m',
    escalationDelay: '0m',
    postMortemRequired: true,
    emoji: ':red_circle:',
  },
  {
    name: 'P1',
    label: 'High',
    definition: 'Major degradation (high error rate, slow responses)',
    responseTime: '30m',
    updateCadence: '15m',
    escalationDelay: '30m',
    postMortemRequired: true,
    emoji: ':large_orange_circle:',
  },
  {
    name: 'P2',
    label: 'Medium',
    definition: 'Partial degradation (a feature not working for some users)',
    responseTime: '2h',
    updateCadence: '1h',
    escalationDelay: '2h',
    postMortemRequired: false,
    emoji: ':large_yellow_circle:',
  },
  {
    name: 'P3',
    label: 'Low',
    definition: 'Minor issue (non-critical bug, UI glitch)',
    responseTime: '24h',
    updateCadence: '24h',
    escalationDelay: '24h',
    postMortemRequired: false,
    emoji: ':large_blue_circle:',
  },
];

// ---------------------------------------------------------------- health checks

/** Fleet runbook endpoint table: the default timeout of an HTTP check by its path. */
export const DEFAULT_HTTP_TIMEOUTS: Record<string, number> = {
  '/health': 5_000,
  '/health/liveness': 1_000,
  '/health/readiness': 3_000,
  '/health/startup': 10_000,
  '/health/metrics': 2_000,
};

const checkBase = {
  name: z.string().min(1).max(60).optional(),
  timeout: durationSchema.optional(),
  /** Above this latency an answering check is `degraded` (BARQ SLO p95 < 500 ms; Floyo < 200 ms). */
  warnLatency: durationSchema.optional(),
};

export const httpCheckSchema = z.strictObject({
  ...checkBase,
  type: z.literal('http'),
  url: secretUrlSchema,
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  headers: secretHeadersSchema.default({}),
  expectStatus: z.union([z.number().int(), z.array(z.number().int())]).default(200),
  /**
   * What the body must be: `health` (JSON in the runbooks' health format, else unhealthy), `any`
   * (status code only) or `auto` (use a health body when there is one). Unset: `health` for paths
   * ending in /health or /health/detailed (Fleet: "200 OK with JSON"), else `auto`.
   */
  expectBody: z.enum(['auto', 'health', 'any']).optional(),
});

export const postgresCheckSchema = z.strictObject({
  ...checkBase,
  type: z.literal('postgres'),
  url: secretUrlSchema,
  /** Connection use above this fraction of max_connections is `degraded`. */
  maxConnectionsRatio: z.number().min(0).max(1).default(0.8),
});

export const redisCheckSchema = z.strictObject({
  ...checkBase,
  type: z.literal('redis'),
  url: secretUrlSchema,
  /**
   * Floyo runbook: cache hit rate > 80 %, measured between two checks. `off` (or `false`) for a
   * Redis used for queues or locks, where the hit rate means nothing.
   */
  hitRateTarget: z
    .union([z.number().min(0).max(1), z.literal('off'), z.literal(false).transform(() => 'off' as const)])
    .default(0.8),
  /** Memory use above this fraction of maxmemory is `degraded`. */
  maxMemoryRatio: z.number().min(0).max(1).default(0.9),
});

export const prometheusCheckSchema = z.strictObject({
  ...checkBase,
  type: z.literal('prometheus'),
  url: secretUrlSchema,
  headers: secretHeadersSchema.default({}),
  query: z.string().min(1),
  /** The check is unhealthy when `value <op> threshold` holds (e.g. error rate > 0.001). */
  unhealthyWhen: z.strictObject({ op: z.enum(['>', '>=', '<', '<=']), value: z.number() }),
  /** Optional softer threshold for `degraded`. */
  degradedWhen: z.strictObject({ op: z.enum(['>', '>=', '<', '<=']), value: z.number() }).optional(),
  unit: z.string().optional(),
});

export const healthCheckSchema = z.discriminatedUnion('type', [
  httpCheckSchema,
  postgresCheckSchema,
  redisCheckSchema,
  prometheusCheckSchema,
]);
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type HttpCheckConfig = z.output<typeof httpCheckSchema>;
export type PostgresCheckConfig = z.output<typeof postgresCheckSchema>;
export type RedisCheckConfig = z.output<typeof redisCheckSchema>;
export type PrometheusCheckConfig = z.output<typeof prometheusCheckSchema>;

// ---------------------------------------------------------------- platforms

const endpointOverride = z
  .url()
  .optional()
  .describe('API base URL override, for emulators and tests (e.g. http://127.0.0.1:8085)');

export const cloudRunPlatformSchema = z.strictObject({
  kind: z.literal('cloudrun'),
  project: z.string().min(1),
  region: z.string().min(1),
  service: z.string().min(1),
  endpoint: endpointOverride,
});

export const appServicePlatformSchema = z.strictObject({
  kind: z.literal('appservice'),
  subscriptionId: z.string().min(1),
  resourceGroup: z.string().min(1),
  app: z.string().min(1),
  /** App Service plan, for scaling workers. */
  plan: z.string().min(1).optional(),
  /** Deployment slot swapped with production on rollback (e.g. "staging"). */
  slot: z.string().min(1).optional(),
  endpoint: endpointOverride,
});

export const kubernetesPlatformSchema = z.strictObject({
  kind: z.literal('kubernetes'),
  namespace: z.string().min(1),
  deployment: z.string().min(1),
  /** kubeconfig context; unset: in-cluster config, else the current context. */
  context: z.string().optional(),
  /** Container whose environment carries MAINTENANCE_MODE; default: the first container. */
  container: z.string().optional(),
  endpoint: endpointOverride,
});

export const platformSchema = z.discriminatedUnion('kind', [
  cloudRunPlatformSchema,
  appServicePlatformSchema,
  kubernetesPlatformSchema,
]);
export type PlatformConfig = z.output<typeof platformSchema>;
export type CloudRunPlatformConfig = z.output<typeof cloudRunPlatformSchema>;
export type AppServicePlatformConfig = z.output<typeof appServicePlatformSchema>;
export type KubernetesPlatformConfig = z.output<typeof kubernetesPlatformSchema>;

// ---------------------------------------------------------------- gradual roll-outs

/** A condition on a measurement, Argo Rollouts style: `result > 0.05`, `result == unhealthy`. */
export const ROLLOUT_CONDITION = /^\s*result(?:\[0\])?\s*(>=|<=|==|!=|>|<)\s*("?)([\w.+-]+)\2\s*$/;
const rolloutCondition = z
  .string()
  .regex(ROLLOUT_CONDITION, 'write `result <op> <value>`, e.g. `result > 0.05` or `result != healthy`');

/** One analysis metric of a roll-out step (Argo Rollouts' AnalysisTemplate metric, in short). */
export const rolloutMetricSchema = z
  .strictObject({
    name: z.string().min(1),
    /** `health`: the service's health checks (result: healthy | degraded | unhealthy); `prometheus`: a PromQL instant query. */
    provider: z.enum(['health', 'prometheus']),
    /** PromQL (provider prometheus), sent to the URL of the service's first prometheus health check. */
    query: z.string().min(1).optional(),
    interval: durationSchema.default(60_000),
    count: z.number().int().min(1).max(100).default(5),
    failureCondition: rolloutCondition.optional(),
    successCondition: rolloutCondition.optional(),
    /** Failed measurements allowed; one more fails the step (and rolls back). */
    failureLimit: z.number().int().min(0).default(0),
  })
  .refine((m) => m.provider !== 'prometheus' || m.query !== undefined, 'a prometheus metric needs a query')
  .refine(
    (m) => m.failureCondition !== undefined || m.successCondition !== undefined,
    'give a failureCondition or a successCondition',
  );
export type RolloutMetricConfig = z.output<typeof rolloutMetricSchema>;

export const rolloutSchema = z.strictObject({
  /** Traffic percentages to the new revision, ascending, ending at 100. */
  steps: z
    .array(z.number().int().min(1).max(100))
    .min(1)
    .refine((s) => s.every((p, i) => i === 0 || p > (s[i - 1] ?? 0)) && s.at(-1) === 100, {
      message: 'steps must ascend and end at 100 (e.g. [10, 50, 100])',
    })
    .default([10, 50, 100]),
  /** How long each step holds before the next (longer when its analysis needs longer). */
  interval: durationSchema.default(5 * 60_000),
  /** Unset: the error rate against deploy.rollbackErrorRate for deploy.rollbackAfter (README). */
  analysis: z.array(rolloutMetricSchema).optional(),
});
export type RolloutConfig = z.output<typeof rolloutSchema>;

// ---------------------------------------------------------------- services

export const serviceSchema = z.strictObject({
  name,
  environment: z.string().min(1).default('production'),
  description: z.string().optional(),
  platform: platformSchema,
  scaling: z
    .strictObject({
      min: z.number().int().nonnegative().default(1),
      max: z.number().int().positive().default(20),
    })
    .refine((s) => s.min <= s.max, 'scaling.min must not exceed scaling.max')
    .default({ min: 1, max: 20 }),
  /** Environment variable set on the workload for maintenance mode. */
  maintenanceEnvVar: z.string().default('MAINTENANCE_MODE'),
  healthChecks: z.array(healthCheckSchema).default([]),
  /** Availability objective in percent (the Fleet runbook: 99.9 = 43.8 minutes of downtime a month). */
  slo: z.number().gt(0).lt(100).default(99.9),
  /** Gradual roll-outs (/deploy rollout): steps, interval, analysis. */
  rollout: rolloutSchema.prefault({}),
});
export type ServiceConfig = z.output<typeof serviceSchema>;

// ---------------------------------------------------------------- approvals and windows

/** BARQ deployment runbook: production 2 approvals (Tech Lead + PM), staging 1, development none. */
export const DEFAULT_APPROVALS: Record<string, z.input<typeof approvalRuleSchema>> = {
  production: { required: 2, fromGroups: ['tech-lead', 'pm'], allowSelfApproval: false },
  staging: { required: 1, fromGroups: [], allowSelfApproval: false },
  development: { required: 0, fromGroups: [], allowSelfApproval: false },
};

export const approvalRuleSchema = z.strictObject({
  required: z.number().int().min(0).max(10),
  /** Approver groups of which one member each must approve (e.g. [tech-lead, pm]). */
  fromGroups: z.array(z.string()).default([]),
  allowSelfApproval: z.boolean().default(false),
  /** A request not fully approved this long after the requester confirmed it expires. */
  expireAfter: durationSchema.default(3_600_000),
  /**
   * The rule while the operation is for an open incident of a `deploy.incidentExemption` severity,
   * merged field by field over this rule (unset: unchanged).
   */
  duringIncident: z
    .strictObject({
      required: z.number().int().min(0).max(10).optional(),
      fromGroups: z.array(z.string()).optional(),
      allowSelfApproval: z.boolean().optional(),
    })
    .optional(),
});
export type ApprovalRuleConfig = z.output<typeof approvalRuleSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM (24-hour)');
const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

export const deployWindowSchema = z
  .strictObject({
    days: z.array(weekday).min(1),
    from: hhmm,
    to: hhmm,
  })
  .refine((w) => w.from < w.to, {
    message: 'a window ends after it starts on the same day (for one past midnight, write two windows)',
    path: ['to'],
  });

/** BARQ deploy windows (UTC+3): weekdays 10:00–14:00, not Friday after 12:00, not weekends. */
export const DEFAULT_DEPLOY_WINDOWS: Record<string, z.input<typeof deployWindowSchema>[]> = {
  production: [
    { days: ['mon', 'tue', 'wed', 'thu'], from: '10:00', to: '14:00' },
    { days: ['fri'], from: '10:00', to: '12:00' },
  ],
};

/** An IANA time zone name the runtime knows (Asia/Riyadh, Europe/Berlin, UTC). */
const ianaTimeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'use an IANA time zone name such as Asia/Riyadh');

const isoDate = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'use a date such as 2026-12-24 (YYYY-MM-DD)');

export const deployPolicySchema = z.strictObject({
  /** IANA zone the windows and holidays are written in; unset: `utcOffset`. */
  timeZone: ianaTimeZone.optional(),
  /** Days (in the deploy time zone) on which no window opens. */
  holidays: z.array(isoDate).default([]),
  /** Operations for an open incident of these severities skip windows and freezes (never approvals). */
  incidentExemption: z.array(z.string()).default(['P0', 'P1']),
  /** UTC offset the windows are written in (BARQ: UTC+3). */
  utcOffset: z
    .string()
    .regex(/^[+-]([01]\d|2[0-3]):[0-5]\d$/, 'use an offset such as +03:00')
    .default('+03:00'),
  /**
   * Windows by environment, merged over DEFAULT_DEPLOY_WINDOWS environment by environment: giving
   * `staging` keeps the default `production`; an environment's list replaces its default as a whole.
   */
  windows: byKeyOverDefaults(
    z.record(z.string(), z.array(deployWindowSchema)),
    DEFAULT_DEPLOY_WINDOWS,
    'replace',
  ),
  /** Approver group that can authorise an emergency change outside the windows. */
  emergencyApproverGroup: z.string().default('cto'),
  /** Error rate above which a change is rolled back (BARQ: > 5 % for 5 minutes). */
  rollbackErrorRate: z.number().min(0).max(1).default(0.05),
  rollbackAfter: durationSchema.default(300_000),
  /**
   * Who may request /deploy operations, by environment: Slack user ids and user-group ids. An
   * environment not listed: anyone in the workspace except guests.
   */
  allowed: z.record(z.string(), z.array(slackUserOrGroupId)).default({}),
  /** An unconfirmed confirmation card expires after this long. */
  confirmTimeout: durationSchema.default(15 * 60_000),
  /** How long the platform may take to settle after a change, per platform (merged field by field). */
  settleTimeout: z
    .strictObject({
      kubernetes: durationSchema.default(10 * 60_000),
      cloudrun: durationSchema.default(5 * 60_000),
      appservice: durationSchema.default(10 * 60_000),
    })
    .prefault({}),
  /** How long the health checks may take to pass after a change. */
  verifyTimeout: durationSchema.default(2 * 60_000),
});

// ---------------------------------------------------------------- escalation

export const escalationLevelSchema = z.strictObject({
  name: z.string().min(1),
  /** Slack user or user-group ids to notify at this level. */
  notify: z.array(slackUserOrGroupId).default([]),
});

// ---------------------------------------------------------------- pagerduty

/** A PagerDuty routing (integration) key: only as a reference, resolved when a page is sent. */
export const routingKeyRefSchema = z
  .string()
  .regex(
    /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/,
    'a routing key is a secret: write it as a reference such as "${env:PAGERDUTY_ROUTING_KEY}"',
  );

export const pagerDutySchema = z.strictObject({
  /** Events API v2 base URL (…/v2/enqueue, …/v2/change/enqueue); overridable for tests and proxies. */
  endpoint: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com'),
  /** Default routing key (levels that page without their own key, change events). */
  routingKey: routingKeyRefSchema.optional(),
  /** `payload.source` of every event. */
  source: z.string().min(1).max(255).default('runbook-bot'),
  /** 429, 5xx and network errors: tries in all (the first included), `delay` × the tries so far apart. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).default(3),
      delay: durationSchema
        .default(30_000)
        .refine((ms) => ms >= 1_000, 'wait at least 1s between two tries (PagerDuty suggests 30s)'),
    })
    .prefault({}),
  /** Change Events of /deploy operations: their own routing key, false for none; default: `routingKey`. */
  changeEvents: z.union([routingKeyRefSchema, z.literal(false)]).optional(),
});

export type PagerDutyConfig = z.output<typeof pagerDutySchema>;
/**
 * A level of an escalation ladder (issue 13): reached `delay` after the declaration (or a reopen)
 * unless the incident was acknowledged first. `immediately` is 0.
 */
export const escalationLadderLevelSchema = z.strictObject({
  name: z.string().min(1).max(80),
  delay: z.union([z.literal('immediately').transform(() => 0), durationSchema]).default(0),
  /** Slack user or user-group ids invited to the channel and mentioned when the level is reached. */
  notify: z.array(slackUserOrGroupId).default([]),
  /** Pages PagerDuty (Events API v2) when reached, with this routing key. */
  /** `{}` pages with `pagerduty.routingKey`. */
  pagerduty: z.strictObject({ routingKey: routingKeyRefSchema.optional() }).optional(),
  /** What else the level does, e.g. "Declare an outage and notify customers", posted in `postIn` too. */
  action: z
    .strictObject({
      text: z.string().min(1).max(500),
      postIn: z.array(channelRef).default([]),
    })
    .optional(),
});
export type EscalationLadderLevelConfig = z.output<typeof escalationLadderLevelSchema>;

// ---------------------------------------------------------------- top level

const configObject = z.strictObject({
  organisation: z.string().min(1).default('Runbook'),
  channels: z
    .strictObject({
      incidents: channelRef.default('#incidents'),
      deployments: channelRef.default('#deployments'),
    })
    .prefault({}),
  incidents: z
    .strictObject({
      /** "any", or a list of channels where /incident declare is accepted. */
      declareIn: z.union([z.literal('any'), z.array(channelRef).min(1)]).default('any'),
      /** Channel name template: {id} (number), {slug} (from the title), {severity}. */
      channelNameTemplate: z.string().min(1).default('inc-{id}-{slug}'),
      createChannel: z.boolean().default(true),
      roles: z
        .array(z.string().min(1).max(40))
        .min(1)
        .default(['commander', 'communications lead', 'scribe']),
      /** Archive the incident channel this long after resolution; 0 disables. */
      archiveAfter: durationSchema.default(7 * 86_400_000),
      /** The commander is reminded when the post-mortem is not marked complete this long after resolution. */
      postmortemDue: durationSchema.default(48 * 3_600_000),
      /** An update overdue by this much: the communications lead is told too. */
      updateGrace: durationSchema.default(5 * 60_000),
    })
    .prefault({}),
  severities: z
    .array(severitySchema)
    .min(1)
    .default(() => DEFAULT_SEVERITIES.map((s) => severitySchema.parse(s)))
    .superRefine((levels, ctx) => {
      const seen = new Set<string>();
      for (const [i, level] of levels.entries()) {
        if (seen.has(level.name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate severity ${level.name}` });
        seen.add(level.name);
      }
    }),
  services: z
    .array(serviceSchema)
    .default([])
    .superRefine((services, ctx) => {
      const seen = new Set<string>();
      for (const [i, s] of services.entries()) {
        const key = `${s.name}/${s.environment}`;
        if (seen.has(key))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate service ${key}` });
        seen.add(key);
      }
    }),
  /** Approver groups: group name → Slack user ids and user-group ids. */
  approvers: z.record(z.string(), z.array(slackUserOrGroupId)).default({}),
  /** Approval rules by environment, merged over DEFAULT_APPROVALS environment by environment, field by field. */
  approvals: byKeyOverDefaults(z.record(z.string(), approvalRuleSchema), DEFAULT_APPROVALS, 'fields'),
  deploy: deployPolicySchema.prefault({}),
  escalation: z
    .strictObject({
      /** Without a ladder of its own, a severity's ladder: these levels, each a response time after the last. */
      levels: z.array(escalationLevelSchema).default([]),
      /** Per severity: its ladder, delays counted from the declaration. */
      ladders: z.record(z.string(), z.array(escalationLadderLevelSchema).min(1).max(10)).default({}),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /**
       * How long audit records are kept (the runbook: 7 years); older ones are deleted daily. At
       * least a day, so that a slip such as `7m` for `7y` cannot empty the log.
       */
      retention: durationSchema
        .default(7 * YEAR_MS)
        .refine((ms) => ms >= 86_400_000, 'keep audit records at least a day (the runbook: 7y)'),
    })
    .prefault({}),
  stats: z
    .strictObject({
      /** Severities whose incidents count fully as downtime of their affected services (error budget). */
      downtimeSeverities: z.array(z.string().min(1)).default(['P0', 'P1']),
      /** A change followed within this long by a rollback or an incident of its service counts as failed. */
      changeFailureWindow: durationSchema
        .default(86_400_000)
        .refine((ms) => ms >= 60_000, 'a change failure window is at least 1m (default 24h)'),
    })
    .prefault({}),
  timers: z
    .strictObject({
      /** A claimed timer whose handler died (a crash, a kill -9) runs again after this. */
      lease: durationSchema
        .default(30_000)
        .refine((ms) => ms >= 1_000 && ms <= 3_600_000, 'a timer lease is between 1s and 1h (default 30s)'),
    })
    .prefault({}),
  pagerduty: pagerDutySchema.prefault({}),
});

/** The config, with the checks across sections: every ladder is a configured severity's. */
export const configSchema = configObject.superRefine((config, ctx) => {
  const names = config.severities.map((s) => s.name);
  for (const key of Object.keys(config.escalation.ladders)) {
    if (!names.includes(key))
      ctx.addIssue({
        code: 'custom',
        path: ['escalation', 'ladders', key],
        message: `no severity ${key} (the severities are ${names.join(', ')})`,
      });
  }
  // Severity lists given in config (their default, P0 and P1, is left alone for other ladders).
  const lists: [string[], (string | number)[]][] = [
    [config.deploy.incidentExemption, ['deploy', 'incidentExemption']],
    [config.stats.downtimeSeverities, ['stats', 'downtimeSeverities']],
  ];
  for (const [list, path] of lists) {
    if (list.length === 2 && list[0] === 'P0' && list[1] === 'P1') continue;
    for (const [i, name] of list.entries()) {
      if (!names.includes(name))
        ctx.addIssue({
          code: 'custom',
          path: [...path, i],
          message: `no severity ${name} (the severities are ${names.join(', ')})`,
        });
    }
  }
});

export type RunbookConfig = z.output<typeof configSchema>;
export type RunbookConfigInput = z.input<typeof configSchema>;
