/**
 * Texts of health-check answers (`/deploy health`, `/incident health`, watches).
 * Values passed in are already escaped for mrkdwn; times are Slack date tokens.
 */

export const healthStatusWord = {
  healthy: 'healthy',
  degraded: 'degraded',
  unhealthy: 'unhealthy',
} as const;

export const serviceHeadline = (f: {
  emoji: string;
  service: string;
  status: string;
  healthy: number;
  total: number;
  checkedAt: string;
  duration: string;
}): string =>
  `${f.emoji} ${f.service} is *${f.status}* — ${f.healthy} of ${f.total} checks healthy · checked ${f.checkedAt} in ${f.duration}`;

export const allHeadline = (f: {
  emoji: string;
  total: number;
  unhealthy: number;
  degraded: number;
  healthy: number;
  checkedAt: string;
}): string =>
  `${f.emoji} *${f.total} service${f.total === 1 ? '' : 's'} checked*: ${f.unhealthy} unhealthy, ${f.degraded} degraded, ${f.healthy} healthy · ${f.checkedAt}`;

/** A healthy service in a multi-service answer: one line naming each of its checks. */
export const healthyServiceLine = (f: {
  emoji: string;
  service: string;
  /** The checks' names, escaped and formatted. */
  checks: readonly string[];
  duration: string;
}): string =>
  `${f.emoji} ${f.service} — ${f.checks.length === 1 ? 'its check' : `all ${f.checks.length} checks`} healthy: ${f.checks.join(', ')} · ${f.duration}`;

export const moreServices = (n: number): string => `…and ${n} more service${n === 1 ? '' : 's'}`;
export const moreLines = (n: number): string => `…and ${n} more`;

export const noCheckedServices =
  'No service has health checks yet: add `healthChecks` to the services in runbook.yml.';

export const sharedBy = (user: string): string => `Shared by ${user}`;
export const recheckedFor = (user: string): string =>
  `Checked again for ${user} (the original result was too large to keep in the button)`;

export const postToChannelLabel = 'Post to channel';
export const watchUntilHealthyLabel = 'Watch until healthy';
export const stopWatchingLabel = 'Stop watching';
export const watchAlreadyEnded = 'This watch has already ended: its message says how.';

export const healthUsage =
  'Usage: `/deploy health <service> [environment] [--watch] [--every 10s] [--for 5m]` or `/deploy health all`.';

export const watchStarted = (f: { service: string; every: string; until: string }): string =>
  `:eyes: Watching ${f.service} until it is healthy: checking every ${f.every}, giving up ${f.until}.`;

export const watchRound = (f: { service: string; round: number; status: string; until: string }): string =>
  `:eyes: Watching ${f.service}: round ${f.round}, still *${f.status}*. Giving up ${f.until}.`;

export const watchHealthy = (f: { service: string; elapsed: string; rounds: number }): string =>
  `:white_check_mark: ${f.service} is healthy again: it took ${f.elapsed} (${f.rounds} round${f.rounds === 1 ? '' : 's'}).`;

export const watchGaveUp = (f: {
  service: string;
  elapsed: string;
  rounds: number;
  status: string;
}): string =>
  `:hourglass: Gave up watching ${f.service} after ${f.elapsed} (${f.rounds} round${f.rounds === 1 ? '' : 's'}): still *${f.status}*. Look at the failing checks below, or start another watch with \`--for\` longer.`;

export const watchStopped = (f: { service: string; rounds: number; status: string }): string =>
  `:octagonal_sign: Stopped watching ${f.service} after ${f.rounds} round${f.rounds === 1 ? '' : 's'} (the bot is shutting down); last status *${f.status}*. Run the watch again once the bot is back.`;

export const watchStoppedBy = (f: { service: string; rounds: number; status: string; by: string }): string =>
  `:octagonal_sign: ${f.by} stopped watching ${f.service} after ${f.rounds} round${f.rounds === 1 ? '' : 's'}; last status *${f.status}*.`;

export const watchAlreadyRunning = (service: string): string =>
  `${service} is already being watched in this channel: its message is updated until it is healthy.`;

export const watchPostedPrivately = (service: string): string =>
  `:eyes: Watching ${service}: the result is updated in place in this channel.`;

export const incidentNoServices = (id: string): string =>
  `${id} has no affected services, so there is nothing to check.`;

export const incidentNoServicesHint = (id: string): string =>
  `Add the affected services to ${id} (its headline's "Edit" or the declare form lists the configured services), then run \`/incident health\` again. Or check a service directly: \`/deploy health <service>\`.`;

export const incidentHealthTitle = (f: {
  id: string;
  emoji: string;
  status: string;
  actor: string;
}): string => `${f.emoji} *Health check for ${f.id}*: overall *${f.status}* (run by ${f.actor})`;

export const incidentNotConfigured = (names: string): string =>
  `:grey_question: Not configured in runbook.yml, not checked: ${names}`;

export const incidentNoChecks = (names: string): string =>
  `:grey_question: No health checks configured, not checked: ${names}`;
