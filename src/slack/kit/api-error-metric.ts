import type { Metrics } from '../../metrics.ts';

interface WebApiErrorShape {
  code?: unknown;
  data?: { error?: unknown; response_metadata?: unknown };
  statusCode?: unknown;
  original?: { config?: { url?: unknown } };
}

/**
 * Counts a Slack Web API failure (ok:false answers, HTTP errors, rate limits, request errors) in
 * `runbook_slack_api_errors_total`; other errors are left alone. Returns whether it was one.
 */
export function countSlackApiError(metrics: Metrics, error: unknown, method = 'unknown'): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as WebApiErrorShape;
  const label = (value: string): boolean => {
    metrics.slackApiErrors.inc({ method, error: value });
    return true;
  };
  switch (e.code) {
    case 'slack_webapi_platform_error':
      return label(typeof e.data?.error === 'string' ? e.data.error : 'platform_error');
    case 'slack_webapi_rate_limited_error':
      return label('rate_limited');
    case 'slack_webapi_http_error':
      return label(`http_${typeof e.statusCode === 'number' ? e.statusCode : 'error'}`);
    case 'slack_webapi_request_error':
      return label('request_error');
    default:
      return false;
  }
}
