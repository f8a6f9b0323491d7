/**
 * What an incident's alert pages carry, in one place for whoever enqueues them: the dedup key
 * (stable per incident, so retries never open a second PagerDuty incident; after a resolve PagerDuty
 * opens a new alert for the same key, so a reopen triggers again), and our severities mapped onto
 * PagerDuty's four.
 */
import type { SeverityConfig } from '../config/schema.ts';
import type { PagerDutySeverity } from './pagerduty.ts';

/**
 * "runbook-acme-INC-42": the same for every page of INC-42, and distinct between two organisations'
 * bots paging one PagerDuty service.
 */
export function incidentDedupKey(organisation: string, number: number): string {
  const org = organisation
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `runbook-${org || 'runbook'}-INC-${number}`;
}

const BY_RANK: readonly PagerDutySeverity[] = ['critical', 'error', 'warning', 'info'];

/**
 * By rank in the configured ladder (most severe first): the first is critical, the second error, the
 * third warning, the rest info (BARQ: P0 critical, P1 error, P2 warning, P3 info). Unknown: error.
 */
export function pagerDutySeverity(
  name: string,
  ladder: readonly Pick<SeverityConfig, 'name'>[],
): PagerDutySeverity {
  const rank = ladder.findIndex((s) => s.name === name);
  if (rank < 0) return 'error';
  return BY_RANK[Math.min(rank, BY_RANK.length - 1)] ?? 'info';
}
