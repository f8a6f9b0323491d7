/**
 * Slack's Web API rate limits, as documented (https://api.slack.com/docs/rate-limits): each method
 * has a tier, limits apply per method per app per workspace, and a call over the limit answers
 * HTTP 429 with `Retry-After` (seconds) and `{ ok: false, error: 'ratelimited' }`.
 *
 * Tier 1: 1+ per minute, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+. The simulator enforces the
 * lower bound of each tier over a sliding window. `chat.postMessage` is "special" (about one
 * message a second per channel, bursts tolerated) and is not limited here.
 */

export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;
export type Tier = keyof typeof TIER_PER_MINUTE;

/** The tier of each simulated method, from each method's page of Slack's reference. */
export const METHOD_TIERS: Readonly<Record<string, Tier>> = {
  'api.test': 4,
  'auth.test': 4,
  'chat.update': 3,
  'chat.delete': 3,
  'chat.postEphemeral': 4,
  'chat.getPermalink': 4,
  'views.open': 4,
  'views.update': 4,
  'views.push': 4,
  'conversations.create': 2,
  'conversations.invite': 3,
  'conversations.join': 3,
  'conversations.setTopic': 2,
  'conversations.info': 3,
  'conversations.members': 4,
  'conversations.history': 3,
  'conversations.replies': 3,
  'conversations.archive': 2,
  'conversations.open': 3,
  'pins.add': 2,
  'pins.remove': 2,
  'pins.list': 2,
  'reactions.add': 3,
  'reactions.remove': 2,
  'users.info': 4,
  'users.lookupByEmail': 3,
  'usergroups.list': 2,
  'usergroups.users.list': 2,
  'team.info': 3,
  'files.getUploadURLExternal': 4,
  'files.completeUploadExternal': 4,
};

export interface RateLimitOptions {
  /** The window the tier limits apply to; Slack: a minute. Shorter in tests that want a quick Retry-After. */
  windowMs?: number;
  /** Calls per window by method, replacing the tier's (e.g. `{ 'chat.update': 2 }`). */
  limits?: Record<string, number>;
}

/** Counts calls per method over a sliding window; answers how long to wait when over. */
export class TierLimiter {
  readonly #windowMs: number;
  readonly #limits: Record<string, number>;
  readonly #calls = new Map<string, number[]>();

  constructor(options: RateLimitOptions = {}) {
    this.#windowMs = options.windowMs ?? 60_000;
    this.#limits = options.limits ?? {};
  }

  limitOf(method: string): number | undefined {
    const override = this.#limits[method];
    if (override !== undefined) return override;
    const tier = METHOD_TIERS[method];
    return tier === undefined ? undefined : TIER_PER_MINUTE[tier];
  }

  /** Records the call and returns undefined, or returns the Retry-After in seconds when over the limit. */
  take(method: string, now = performance.now()): number | undefined {
    const limit = this.limitOf(method);
    if (limit === undefined) return undefined;
    const calls = (this.#calls.get(method) ?? []).filter((at) => at > now - this.#windowMs);
    this.#calls.set(method, calls);
    if (calls.length < limit) {
      calls.push(now);
      return undefined;
    }
    const freeAt = (calls[calls.length - limit] ?? now) + this.#windowMs;
    return Math.max(1, Math.ceil((freeAt - now) / 1000));
  }

  reset(): void {
    this.#calls.clear();
  }
}
