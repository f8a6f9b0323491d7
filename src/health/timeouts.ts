import { DEFAULT_HTTP_TIMEOUTS, type HealthCheckConfig } from '../config/schema.ts';

/** Timeout of a check whose config and path give none. */
export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

/** The path of a configured URL, which may still hold `${env:…}` references. */
function pathOf(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url);
  if (!match) return undefined;
  const path = match[1] ?? '/';
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Fleet runbook table: /health 5 s, /health/liveness 1 s, /health/readiness 3 s, /health/startup 10 s… */
export function defaultHttpTimeoutMs(url: string): number {
  const path = pathOf(url);
  return (path !== undefined ? DEFAULT_HTTP_TIMEOUTS[path] : undefined) ?? DEFAULT_CHECK_TIMEOUT_MS;
}

/** The check's own timeout: configured, else by path for HTTP, else 5 s. */
export function checkTimeoutMs(check: HealthCheckConfig): number {
  if (check.timeout !== undefined) return check.timeout;
  return check.type === 'http' ? defaultHttpTimeoutMs(check.url) : DEFAULT_CHECK_TIMEOUT_MS;
}
