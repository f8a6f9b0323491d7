import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Bot, createBot, type SlackCredentials } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import { loadConfigFile } from './config/load.ts';
import type { Coordination } from './coordination/coordination.ts';
import { openCoordination } from './coordination/open.ts';
import { startAuditRetention } from './deploy/audit-retention.ts';
import { startDeployMonitor } from './deploy/monitor.ts';
import { ROLLOUT_TIMERS } from './deploy/rollout.ts';
import { DEPLOY_TIMERS } from './deploy/start-timer.ts';
import { type Env, isLocalMode, parseEnv } from './env.ts';
import { Flows } from './flows/recorded-flow.ts';
import { HealthService } from './health/service.ts';
import { HEALTH_TIMERS, HealthWatches } from './health/watches.ts';
import { startMetricsServer } from './http/routes.ts';
import { InFlight } from './in-flight.ts';
import { INCIDENT_TIMERS } from './incidents/archive.ts';
import { ESCALATION_TIMERS } from './incidents/escalation.ts';
import { IncidentService } from './incidents/incident-service.ts';
import { POSTMORTEM_TIMERS } from './incidents/postmortem.ts';
import { PostmortemService } from './incidents/postmortem-service.ts';
import { UPDATE_REMINDER_TIMERS } from './incidents/update-reminders.ts';
import type { LocalPlatforms, LocalPlatformsInfo } from './local/platforms/index.ts';
import type { SlackSimulator } from './local/slack/server.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { EventsV2 } from './pagerduty/events-v2.ts';
import { PAGERDUTY_TIMERS } from './pagerduty/sender.ts';
import { type PlatformOptionsSource, PlatformRegistry } from './platform/factory.ts';
import type { Services } from './services.ts';
import { deployServiceFor } from './slack/deploy/notifier.ts';
import { rolloutServiceFor } from './slack/deploy/rollout-notifier.ts';
import { SlackWatchNotifier } from './slack/health/watch-message.ts';
import { slackIncidentNotifier } from './slack/incidents/notifier.ts';
import { slackPostmortemNotifier } from './slack/incidents/postmortem-notifier.ts';
import { startSetupRecovery } from './slack/incidents/setup-recovery.ts';
import { SlackRateLimiter } from './slack/kit/rate-limit.ts';
import { slackPagerDutyNotifier } from './slack/pagerduty/notifier.ts';
import { registerStatsMetrics } from './stats/metrics.ts';
import type { Db } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { openDb } from './store/open.ts';
import { incidentStore, repositories } from './store/repositories/index.ts';
import { importLegacyTimers } from './timers/legacy.ts';
import { startTimerLoop, type TimerPump } from './timers/timer-loop.ts';
import { bindTimerHandlers } from './timers/timers.ts';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface RuntimeOptions {
  /** Process environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  clock?: Clock;
  logger?: Logger;
  /** Redis key prefix (tests isolate with their own). */
  keyPrefix?: string;
  /** Postgres schema (tests isolate with their own). */
  dbSchema?: string;
  /** How health watches wait between rounds (tests pair a ManualClock with a sleep that advances it). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Platform adapters' credentials and endpoints' certificates (tests pointing at the cloud fakes). */
  platformAdapters?: PlatformOptionsSource;
}

export interface Runtime {
  port: number;
  url: string;
  /** The METRICS_PORT listener's port (resolved when METRICS_PORT is 0). */
  metricsPort?: number;
  services: Services;
  bot: Bot;
  /** The durable timer loop of this replica: tests move the clock, then `poll()`. */
  timers: TimerPump;
  /** Local mode only: the built-in Slack simulator (with the example config, the platforms' too), how to reach the bot. */
  local?: LocalModeInfo & { simulator: SlackSimulator; platformSimulators?: LocalPlatforms };
  stop(): Promise<void>;
}

export interface LocalModeInfo {
  botUrl: string;
  signingSecret: string;
  simulatorUrl: string;
  teamId: string;
  apiAppId: string;
  defaultUserId: string;
  defaultChannelId: string;
  /** With the example config: the simulated platforms and services (src/local/platforms). */
  platforms?: LocalPlatformsInfo;
}

export const LOCAL_STATE_FILE = 'local-mode.json';

/** How often due timers (incident channel archiving, …) are polled. */
const TIMER_POLL_MS = 500;
/** How long stopping waits for timer handlers in flight. */
const TIMER_STOP_MS = 5_000;
/** How long stop() waits for work in progress (requests, incident setups) before closing the stores. */
export const DRAIN_MS = 10_000;

/** Builds every part from the environment and starts the bot. `main.ts` and the e2e tests use it. */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const env: Env = parseEnv(options.env ?? process.env);
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? createLogger({ level: env.LOG_LEVEL });
  const clock = options.clock ?? systemClock;
  const loaded = loadConfigFile(env.RUNBOOK_CONFIG, cwd);
  const { path: configPath, usedExample } = loaded;
  let config = loaded.config;
  logger.info(
    { configPath, usedExample },
    usedExample ? 'no runbook.yml: using the example config' : 'config loaded',
  );

  const dataDir = resolve(cwd, env.RUNBOOK_DATA_DIR);
  const cleanup: (() => Promise<void>)[] = [];
  try {
    let simulator: SlackSimulator | undefined;
    let platforms: LocalPlatforms | undefined;
    let slack: SlackCredentials;
    if (isLocalMode(env)) {
      // Loaded only in local mode: a replica with Slack credentials never needs the simulator.
      const { startSlackSimulator } = await import('./local/slack/server.ts');
      simulator = await startSlackSimulator();
      cleanup.unshift(() => simulator!.close());
      slack = {
        botToken: simulator.botToken,
        signingSecret: randomBytes(16).toString('hex'),
        apiUrl: simulator.apiUrl,
      };
      // The example config's services run on in-process simulators of their platforms (loaded only here).
      if (usedExample) {
        const started = performance.now();
        const { startLocalPlatforms } = await import('./local/platforms/index.ts');
        const { simulatedConfig } = await import('./local/platforms/local-config.ts');
        platforms = await startLocalPlatforms(config.services);
        cleanup.unshift(() => platforms!.close());
        const simulated = simulatedConfig(config, platforms);
        config = simulated.config;
        logger.info(
          {
            services: platforms.services.map((s) => `${s.name} (${s.kind}) ${s.apiUrl}`),
            left: simulated.notes,
            startedInMs: Math.round(performance.now() - started),
          },
          'local mode: the example services run on simulated platforms; their health checks go to the simulators',
        );
      }
    } else {
      slack = {
        botToken: env.SLACK_BOT_TOKEN!,
        ...(env.SLACK_SIGNING_SECRET ? { signingSecret: env.SLACK_SIGNING_SECRET } : {}),
        ...(env.SLACK_APP_TOKEN ? { appToken: env.SLACK_APP_TOKEN } : {}),
        ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
      };
    }

    if (!env.DATABASE_URL) mkdirSync(dataDir, { recursive: true });
    const db: Db = await openDb({ databaseUrl: env.DATABASE_URL, dataDir, schema: options.dbSchema });
    cleanup.unshift(() => db.close());
    await migrate(db);
    const coordination: Coordination = await openCoordination({
      redisUrl: env.REDIS_URL,
      keyPrefix: options.keyPrefix ?? 'runbook:',
      clock,
      logger,
    });
    cleanup.unshift(() => coordination.close());

    const metrics = createMetrics({
      defaultMetrics: env.METRICS_PORT !== undefined || env.METRICS_TOKEN !== undefined,
    });
    const health = new HealthService({
      config,
      clock,
      logger,
      env: options.env ?? process.env,
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    let timers: TimerPump | undefined;
    const services: Services = {
      env,
      config,
      clock,
      logger,
      metrics,
      db,
      coordination,
      repos: repositories(db, clock),
      incidents: new IncidentService({
        store: incidentStore(db, clock),
        clock,
        config,
        logger,
      }),
      postmortems: new PostmortemService({ store: incidentStore(db, clock), clock, config }),
      health,
      // A watch's rounds are durable timers: started here, run by whichever replica claims them.
      healthWatches: new HealthWatches({
        health,
        db,
        clock,
        logger: logger.child({ component: 'health-watches' }),
        nudge: () => timers?.scheduled(clock.now()),
      }),
      slackRate: new SlackRateLimiter({ logger, metrics }),
      platforms: new PlatformRegistry(
        config.services,
        logger,
        platforms?.adapters ?? options.platformAdapters,
      ),
      flows: new Flows({ db, clock, logger }),
      inFlight: new InFlight(),
      version: VERSION,
      startedAt: clock.now(),
    };
    // Incident and deploy statistics on /metrics, read from Postgres when scraped (cached 30 s).
    registerStatsMetrics({ registry: metrics.registry, stats: services.repos.stats, config, clock, logger });
    // Last before the stores: the platform adapters' SDK clients and connections.
    cleanup.unshift(() => services.platforms.close());
    // After the bot stops taking requests (below): requests and setups in progress finish first.
    cleanup.unshift(async () => {
      await services.inFlight.drain(DRAIN_MS, logger);
    });
    const bot = createBot(services, slack);
    const port = await bot.start(env.PORT);
    cleanup.unshift(() => bot.stop());
    // Incidents whose Slack setup a crash cut short are finished now, and checked for again later.
    const recovery = startSetupRecovery({
      client: bot.app.client,
      services,
      logger: logger.child({ component: 'incident-setup-recovery' }),
    });
    cleanup.unshift(async () => recovery.stop());
    // Deploy cards past their time expire; operations a crash cut short are resumed or marked interrupted.
    const deployMonitor = startDeployMonitor({
      deploy: () => deployServiceFor(services, bot.app.client),
      logger,
      track: (work) => void services.inFlight.track('deploy operation', work),
    });
    cleanup.unshift(() => deployMonitor.stop());
    // Audit records past audit.retention are deleted now and daily (one replica at a time).
    const auditRetention = startAuditRetention({
      db,
      clock,
      logger,
      inFlight: services.inFlight,
      retentionMs: config.audit.retention,
    });
    cleanup.unshift(async () => auditRetention.stop());
    let metricsPort: number | undefined;
    if (env.METRICS_PORT !== undefined) {
      const metricsServer = await startMetricsServer(services, env.METRICS_PORT);
      cleanup.unshift(() => metricsServer.close());
      metricsPort = metricsServer.port;
    }
    const incidentNotifier = slackIncidentNotifier(bot.app.client, services);
    // Upgrading: timers an older bot left in the Redis queue move into Postgres first.
    await importLegacyTimers(coordination, services.repos.timers, logger.child({ component: 'timers' }));
    timers = startTimerLoop({
      timers: services.repos.timers,
      clock,
      intervalMs: TIMER_POLL_MS,
      leaseMs: config.timers.lease,
      logger: logger.child({ component: 'timers' }),
      publishWake: (dueAt) => coordination.publishTimerWake(dueAt),
      handlers: {
        ...bindTimerHandlers(INCIDENT_TIMERS, {
          incidents: services.incidents,
          notifier: incidentNotifier,
          logger,
        }),
        ...bindTimerHandlers(ESCALATION_TIMERS, {
          incidents: services.incidents,
          notifier: incidentNotifier,
          timers: services.repos.timers,
          clock,
          logger,
        }),
        ...bindTimerHandlers(UPDATE_REMINDER_TIMERS, {
          incidents: services.incidents,
          notifier: incidentNotifier,
          logger,
        }),
        ...bindTimerHandlers(HEALTH_TIMERS, {
          watches: services.healthWatches,
          notifier: new SlackWatchNotifier(services, bot.app.client),
          logger,
        }),
        ...bindTimerHandlers(DEPLOY_TIMERS, {
          deploy: () => deployServiceFor(services, bot.app.client),
          logger: logger.child({ component: 'deploy' }),
        }),
        ...bindTimerHandlers(ROLLOUT_TIMERS, {
          rollouts: () => rolloutServiceFor(services, bot.app.client, options.env ?? process.env),
        }),
        ...bindTimerHandlers(PAGERDUTY_TIMERS, {
          db,
          clock,
          logger,
          pagerduty: new EventsV2({ endpoint: config.pagerduty.endpoint, client: config.organisation }),
          config: config.pagerduty,
          env: options.env ?? process.env,
          incidents: services.incidents,
          notifier: slackPagerDutyNotifier(bot.app.client),
        }),
        ...bindTimerHandlers(POSTMORTEM_TIMERS, {
          incidents: services.incidents,
          postmortems: services.postmortems,
          notifier: slackPostmortemNotifier(bot.app.client),
          logger,
        }),
      },
    });
    const timerLoop = timers;
    // Redis wakes this replica when another schedules a timer due now (only an accelerator: without
    // it, or with Redis down, the loop polls every TIMER_POLL_MS all the same).
    const stopWake = await coordination
      .subscribeTimerWake((dueAt) => timerLoop.nudge(dueAt))
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'no timer wake-ups from other replicas; polling at the interval only');
        return undefined;
      });
    if (stopWake) cleanup.unshift(stopWake);
    // After the last timer handlers (watch rounds), before the bot stops: queued message updates go out.
    cleanup.unshift(() => services.slackRate.idle(3_000));
    // Then the timer handlers in flight (watch rounds, …) finish; no more are claimed here.
    // Bounded: a handler stuck on a rate limit must not eat the requests' drain; what it did not
    // finish stays leased and runs again elsewhere (or here after the restart) once the lease is over.
    cleanup.unshift(async () => {
      const stoppedInTime = await Promise.race([
        timerLoop.stop().then(() => true),
        delay(TIMER_STOP_MS, false, { ref: false }),
      ]);
      if (!stoppedInTime) logger.warn('timer handlers still running at shutdown: left to their leases');
    });
    // No new watch starts here; running ones go on (another replica, or this one after a restart).
    cleanup.unshift(async () => services.healthWatches.close());
    const url = `http://127.0.0.1:${port}`;

    let local: Runtime['local'];
    if (simulator) {
      const info: LocalModeInfo = {
        botUrl: `${url}/slack/events`,
        signingSecret: slack.signingSecret ?? '',
        simulatorUrl: simulator.baseUrl,
        teamId: simulator.workspace.team.id,
        apiAppId: simulator.workspace.bot.appId,
        defaultUserId: 'U_ALICE',
        defaultChannelId: simulator.defaultChannelId,
        ...(platforms ? { platforms: platforms.info() } : {}),
      };
      const stateFile = join(dataDir, LOCAL_STATE_FILE);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(stateFile, JSON.stringify(info, null, 2));
      cleanup.unshift(async () => rmSync(stateFile, { force: true }));
      local = { ...info, simulator, ...(platforms ? { platformSimulators: platforms } : {}) };
      logger.info(
        { url, simulator: simulator.baseUrl, database: db.kind, coordination: coordination.kind },
        'local mode: no Slack credentials, running against the built-in Slack simulator. Try: npm run slack -- "/incident help"',
      );
    } else {
      logger.info(
        {
          port,
          mode: slack.appToken ? 'socket' : 'http',
          database: db.kind,
          coordination: coordination.kind,
          metrics:
            metricsPort !== undefined
              ? `port ${metricsPort}${env.METRICS_TOKEN ? ' (bearer token)' : ''}`
              : env.METRICS_TOKEN
                ? 'on PORT with the bearer token'
                : 'not served (set METRICS_PORT or METRICS_TOKEN)',
        },
        'runbook bot started',
      );
    }

    let stopped = false;
    return {
      port,
      url,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      services,
      bot,
      timers: timerLoop,
      ...(local ? { local } : {}),
      async stop() {
        if (stopped) return;
        stopped = true;
        await runCleanup(cleanup, logger);
      },
    };
  } catch (error) {
    await runCleanup(cleanup, logger);
    throw error;
  }
}

/**
 * Stops on SIGTERM/SIGINT and exits: the bot stops taking requests, work in progress (requests,
 * incident setups) finishes within DRAIN_MS, then Redis and Postgres close. Exits 1 if that hangs.
 */
/**
 * Stops the runtime on SIGTERM/SIGINT (draining, then exit 0) and returns the same stop for other
 * reasons (an uncaught exception: exit 1). A stop that outlasts the drain is forced.
 */
export function stopOnSignals(runtime: Runtime): (reason: string, code?: number) => void {
  let stopping = false;
  const shutdown = (reason: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    runtime.services.logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => process.exit(1), DRAIN_MS + 5_000);
    force.unref();
    runtime.stop().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return shutdown;
}

async function runCleanup(steps: (() => Promise<void>)[], logger: Logger): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
    }
  }
}
