/**
 * Slack steps of an incident flow (create channel, invite, pin, post…): each one's failure is
 * logged and collected, so the flow goes on and the user is told exactly what could not be done.
 */
import { z } from 'zod';
import type { Logger } from '../../logger.ts';

export interface SlackStepFailure {
  /** What the bot was doing, for the user: "create the incident channel". */
  step: string;
  /** Slack's error code (`name_taken`, `ratelimited`, …) or a short reason. */
  error: string;
}

const platformError = z.object({ data: z.object({ error: z.string() }) });
const codedError = z.object({ code: z.string(), message: z.string().optional() });

/** Slack's error code of a failed Web API call, or a short description of any other failure. */
export function slackErrorCode(error: unknown): string {
  const platform = platformError.safeParse(error);
  if (platform.success) return platform.data.data.error;
  const coded = codedError.safeParse(error);
  if (coded.success) {
    if (coded.data.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
    if (/rate limit/i.test(coded.data.message ?? '')) return 'ratelimited';
    return coded.data.message ?? coded.data.code;
  }
  if (error instanceof Error && /rate limit/i.test(error.message)) return 'ratelimited';
  return error instanceof Error ? error.message : String(error);
}

/** Collects step failures for one flow. */
export class SlackSteps {
  readonly failures: SlackStepFailure[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Runs one step; on failure logs it, records it and returns undefined. */
  async run<T>(step: string, fn: () => Promise<T>): Promise<T | undefined> {
    const outcome = await this.attempt(step, fn);
    return outcome.ok ? outcome.value : undefined;
  }

  /** Like run(), telling a failure apart from a step that returns nothing. */
  async attempt<T>(
    step: string,
    fn: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      const code = slackErrorCode(error);
      this.#logger.warn({ err: error, step, slackError: code }, `could not ${step}`);
      this.failures.push({ step, error: code });
      return { ok: false, error: code };
    }
  }

  add(failures: readonly SlackStepFailure[]): void {
    this.failures.push(...failures);
  }
}
