import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics served on GET /metrics. One registry per bot instance (tests start several). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'command' | 'subcommand' | 'outcome'>;
  handlerSeconds: Histogram<'command' | 'subcommand'>;
  slackApiErrors: Counter<'method' | 'error'>;
  interactions: Counter<'kind' | 'action' | 'outcome'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'runbook_' });
  return {
    registry,
    requests: new Counter({
      name: 'runbook_requests_total',
      help: 'Slash commands handled, by command, subcommand and outcome (ok, user_error, unavailable, error).',
      labelNames: ['command', 'subcommand', 'outcome'],
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'runbook_handler_duration_seconds',
      help: 'Time from receipt of a slash command to the end of its handler.',
      labelNames: ['command', 'subcommand'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    slackApiErrors: new Counter({
      name: 'runbook_slack_api_errors_total',
      help: 'Slack Web API calls that failed, by method and error (rate_limited for HTTP 429).',
      labelNames: ['method', 'error'],
      registers: [registry],
    }),
    interactions: new Counter({
      name: 'runbook_interactions_total',
      help: 'Button clicks, modal submissions and events handled, by kind, action and outcome.',
      labelNames: ['kind', 'action', 'outcome'],
      registers: [registry],
    }),
  };
}
