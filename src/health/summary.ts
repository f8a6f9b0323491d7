import { formatMs } from './format.ts';
import type { CheckResult, HealthReport } from './types.ts';

/** "database: connection count 85 of 100 (85%) above 80%" — what a non-healthy result says. */
export function describeResult(result: CheckResult): string {
  return `${result.name} ${result.status}${result.reason ? `: ${result.reason}` : ''}`;
}

/**
 * One line for logs and plain-text replies:
 * "barq-api (production) degraded — 2 of 3 checks healthy; database degraded: connection count … (412ms)".
 */
export function summarizeReport(report: HealthReport): string {
  const who = report.service
    ? `${report.service}${report.environment ? ` (${report.environment})` : ''} `
    : '';
  const healthy = report.results.filter((r) => r.status === 'healthy').length;
  const troubled = report.results.filter((r) => r.status !== 'healthy').map(describeResult);
  const counts = `${healthy} of ${report.results.length} checks healthy`;
  const notes = troubled.length > 0 ? `; ${troubled.join('; ')}` : '';
  return `${who}${report.status} — ${counts}${notes} (${formatMs(report.durationMs)})`;
}
