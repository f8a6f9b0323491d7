import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import type { Counter, Histogram, Registry } from 'prom-client';

/*
 * prom-client's entry point loads every metric type, the push gateway, cluster aggregation and, for
 * its default metrics, @opentelemetry/api: about 90 modules, 13 MB of RSS and 40 ms of start-up for
 * three classes. Those three are loaded from their own files (typed by the package's own types); the
 * default metrics only when /metrics is served. A prom-client whose files moved fails here at start-up.
 */
const require = createRequire(import.meta.url);
export const prom = {
  Registry: require('prom-client/lib/registry') as typeof Prom.Registry,
  Counter: require('prom-client/lib/counter') as typeof Prom.Counter,
  Gauge: require('prom-client/lib/gauge') as typeof Prom.Gauge,
  Histogram: require('prom-client/lib/histogram') as typeof Prom.Histogram,
  collectDefaultMetrics: (): typeof Prom.collectDefaultMetrics =>
    require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics,
};

/** Prometheus metrics served on GET /metrics. One registry per bot instance (tests start several). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'command' | 'subcommand' | 'outcome'>;
  handlerSeconds: Histogram<'command' | 'subcommand'>;
  slackApiErrors: Counter<'method' | 'error'>;
  interactions: Counter<'kind' | 'action' | 'outcome'>;
}

/**
 * `defaultMetrics` (default true): also the process metrics (CPU, memory, event loop lag, GC). The
 * runtime asks for them only when /metrics is served: otherwise nobody reads them.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new prom.Registry();
  if (options.defaultMetrics ?? true)
    prom.collectDefaultMetrics()({ register: registry, prefix: 'runbook_' });
  return {
    registry,
    requests: new prom.Counter({
      name: 'runbook_requests_total',
      help: 'Slash commands handled, by command, subcommand and outcome (ok, user_error, unavailable, error).',
      labelNames: ['command', 'subcommand', 'outcome'],
      registers: [registry],
    }),
    handlerSeconds: new prom.Histogram({
      name: 'runbook_handler_duration_seconds',
      help: 'Time from receipt of a slash command to the end of its handler.',
      labelNames: ['command', 'subcommand'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    slackApiErrors: new prom.Counter({
      name: 'runbook_slack_api_errors_total',
      help: 'Slack Web API calls that failed, by method and error (rate_limited for HTTP 429).',
      labelNames: ['method', 'error'],
      registers: [registry],
    }),
    interactions: new prom.Counter({
      name: 'runbook_interactions_total',
      help: 'Button clicks, modal submissions and events handled, by kind, action and outcome.',
      labelNames: ['kind', 'action', 'outcome'],
      registers: [registry],
    }),
  };
}
