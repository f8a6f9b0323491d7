/**
 * Checks every signed Slack request before Bolt sees it (HTTP mode; Socket Mode requests are not
 * signed). Bolt refuses a request older than 5 minutes but takes one stamped hours in the future,
 * and takes the same request twice: here a timestamp more than 5 minutes off either way is refused
 * with 401, and a request whose signature was seen in the last minutes (a replay, or one delivery
 * reaching two replicas) is answered 200 and dropped, so no handler runs for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPModuleFunctions, type HTTPReceiver, isRawBodyError, verifySlackRequest } from '@slack/bolt';
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../logger.ts';

/** Slack's window: a request stamped further from our clock than this, either way, is refused. */
export const MAX_REQUEST_SKEW_SECONDS = 5 * 60;

export interface RequestGuardOptions {
  signingSecret: string;
  /** Paths Bolt receives Slack requests on (others, like /health, pass untouched). */
  endpoints: readonly string[];
  clock: Clock;
  logger: Logger;
  /**
   * Records a verified signature: true the first time, false for a repeat. When it throws (the
   * store is down), the request goes on: the handlers' own exactly-once keys still hold.
   */
  remember(signature: string): Promise<boolean>;
  bodyLimit?: number;
}

type Verdict = { pass: true } | { pass: false; status: number; reason?: string };

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Replaces the receiver's request listener with one that checks Slack requests first. */
export function guardSlackRequests(receiver: HTTPReceiver, options: RequestGuardOptions): void {
  const inner = receiver.requestListener;
  const { logger } = options;

  const check = async (req: IncomingMessage): Promise<Verdict> => {
    let rawBody: string;
    try {
      // Bolt reads the buffered body from here instead of the (consumed) stream.
      const buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, options.bodyLimit);
      rawBody = buffered.rawBody.toString();
    } catch (error) {
      if (isRawBodyError(error) && (error.type === 'entity.too.large' || error.statusCode === 413))
        return { pass: false, status: 413, reason: 'request body too large' };
      return { pass: false, status: 400, reason: 'request body could not be read' };
    }
    // Slack's unsigned SSL check: Bolt answers it (and strips anything smuggled with it).
    if (
      header(req, 'content-type') === 'application/x-www-form-urlencoded' &&
      parseQuery(rawBody).ssl_check === '1'
    )
      return { pass: true };

    const timestamp = header(req, 'x-slack-request-timestamp') ?? '';
    const signature = header(req, 'x-slack-signature') ?? '';
    if (!/^\d{1,12}$/.test(timestamp) || signature === '')
      return { pass: false, status: 401, reason: 'request without a valid timestamp or signature' };
    const nowMs = options.clock.now().getTime();
    const skew = Number(timestamp) - Math.floor(nowMs / 1000);
    if (Math.abs(skew) > MAX_REQUEST_SKEW_SECONDS) {
      const direction = skew > 0 ? 'ahead of' : 'behind';
      return {
        pass: false,
        status: 401,
        reason: `request timestamp ${Math.abs(skew)} s ${direction} our clock (at most ${MAX_REQUEST_SKEW_SECONDS} s either way)`,
      };
    }
    try {
      verifySlackRequest({
        signingSecret: options.signingSecret,
        body: rawBody,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
        nowMilliseconds: nowMs,
      });
    } catch {
      return { pass: false, status: 401, reason: 'signature mismatch' };
    }
    // A Slack retry (X-Slack-Retry-Num, unsigned) of a delivery whose first attempt died with its replica
    // may carry the same signature: it passes once per retry number, and each action's own exactly-once
    // key still holds.
    const retry = header(req, 'x-slack-retry-num');
    const key = retry !== undefined && /^\d{1,2}$/.test(retry) ? `${signature}#retry${retry}` : signature;
    let first = true;
    try {
      first = await options.remember(key);
    } catch (error) {
      logger.warn(
        { err: error },
        'replay cache unavailable: request let through (its actions are still deduplicated)',
      );
    }
    // A repeat was handled (or is being handled) already: answering 200 stops Slack retrying it.
    return first ? { pass: true } : { pass: false, status: 200, reason: 'replayed request' };
  };

  const refuse = (res: ServerResponse, status: number): void => {
    if (res.headersSent) return;
    res.writeHead(status);
    res.end();
  };

  receiver.requestListener = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method?.toUpperCase() !== 'POST' || !options.endpoints.includes(path)) {
      inner(req, res);
      return;
    }
    check(req)
      .then((verdict) => {
        if (verdict.pass) {
          inner(req, res);
          return;
        }
        if (verdict.status === 200)
          logger.info('replayed Slack request ignored: its signature was seen already');
        else logger.warn({ status: verdict.status, reason: verdict.reason }, 'Slack request refused');
        refuse(res, verdict.status);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'checking a Slack request failed');
        refuse(res, 500);
      });
  };
}
