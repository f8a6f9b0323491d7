import type { Clock } from './clock.ts';
import type { RunbookConfig } from './config/schema.ts';
import type { Coordination } from './coordination/coordination.ts';
import type { Env } from './env.ts';
import type { Flows } from './flows/recorded-flow.ts';
import type { HealthService } from './health/service.ts';
import type { HealthWatches } from './health/watches.ts';
import type { InFlight } from './in-flight.ts';
import type { IncidentService } from './incidents/incident-service.ts';
import type { PostmortemService } from './incidents/postmortem-service.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { PlatformRegistry } from './platform/factory.ts';
import type { Db } from './store/db.ts';
import type { FlowRun } from './store/repositories/flow-runs.ts';
import type { Repositories } from './store/repositories/index.ts';

/**
 * Everything a listener may use, built once at start-up and injected (tests build their own).
 * Nothing here comes from src/slack/: the Slack layer adds its own parts (`slackRate`) by
 * declaration merging, in src/slack/kit/rate-limit.ts.
 */
export interface Services {
  env: Env;
  config: RunbookConfig;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  db: Db;
  coordination: Coordination;
  /** Repositories over the Db, for reading (changes go through the domain services). */
  repos: Repositories;
  /** Every change of an incident: one method each (one transaction, its timeline event). */
  incidents: IncidentService<FlowRun>;
  /** Post-mortems and follow-ups of incidents. */
  postmortems: PostmortemService;
  health: HealthService;
  /** Health watches (`/deploy health --watch`): rows in Postgres, their rounds durable timers. */
  healthWatches: HealthWatches;
  platforms: PlatformRegistry;
  /** Recorded multi-step flows (an incident's Slack setup): claims, steps, runs in progress here. */
  flows: Flows;
  /** Work in progress (Slack requests, setups being finished): stopping waits for it, bounded. */
  inFlight: InFlight;
  /** Bot version, for /health and the readiness answer. */
  version: string;
  startedAt: Date;
}
