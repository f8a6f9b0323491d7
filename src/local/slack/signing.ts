import { createHmac } from 'node:crypto';

/**
 * Computes the `X-Slack-Signature` header value Slack sends with every request:
 * `v0=` + hex(HMAC-SHA256(signingSecret, `v0:${timestamp}:${rawBody}`)).
 * See "Verifying requests from Slack".
 */
export function signSlackRequest(signingSecret: string, timestamp: number | string, rawBody: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return `v0=${digest}`;
}

/** The current time in whole seconds, as Slack puts it in `X-Slack-Request-Timestamp`. */
export function slackTimestampNow(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 1000);
}
