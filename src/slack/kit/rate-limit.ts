/**
 * Keeps the bot's message updates under Slack's per-method rate tiers (limits apply per method,
 * per app, per workspace: `chat.update` is Tier 3, about 50 a minute; `conversations.setTopic`
 * Tier 2, about 20 a minute). Every `chat.update` and `conversations.setTopic` of the bot goes
 * through one SlackRateLimiter (in Services):
 *
 * - Coalescing: calls for the same target (a message's channel + ts, a channel's topic) collapse.
 *   At most one is in flight; while it runs, newer calls replace each other (latest wins) and run
 *   once it is done. A caller whose call was replaced gets the result of the one that replaced it.
 * - Spacing: at most one call a second per target.
 * - Budget: a sliding minute per method, below Slack's tier.
 * - Retry-After: Slack's 429 answer pauses that method here until its Retry-After has passed. The
 *   WebClient (rejectRateLimitedCalls false) waits and retries the rate-limited call itself.
 */
import { type WebClient, WebClientEvent } from '@slack/web-api';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';

export interface MethodPolicy {
  /** Calls allowed in any 60 s (a sliding window), for all targets together. */
  perMinute: number;
  /** Least time between the starts of two calls for one target. */
  minGapMs: number;
}

/** Below Slack's tiers (Tier 3: 50+/min, Tier 2: 20+/min), leaving room for bursts elsewhere. */
export const DEFAULT_POLICIES = {
  'chat.update': { perMinute: 45, minGapMs: 1_000 },
  'conversations.setTopic': { perMinute: 18, minGapMs: 1_000 },
} as const satisfies Record<string, MethodPolicy>;

export type LimitedMethod = keyof typeof DEFAULT_POLICIES;

const WINDOW_MS = 60_000;

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  method: LimitedMethod;
  key: string;
  pending: { call: () => Promise<unknown>; waiters: Waiter[] } | undefined;
  inFlight: Promise<void> | undefined;
  /** When the last call for this target started (ms, the limiter's clock); -Infinity for none. */
  lastStart: number;
  timer: NodeJS.Timeout | undefined;
}

export interface SlackRateLimiterOptions {
  logger?: Logger;
  metrics?: Metrics;
  policies?: Partial<Record<LimitedMethod, MethodPolicy>>;
  /** Monotonic milliseconds; default performance.now(). Rate limits are about real time. */
  now?: () => number;
}

/** Statistics for tests and logs: calls asked for, and calls that went to Slack. */
export interface LimiterStats {
  submitted: number;
  started: number;
}

export class SlackRateLimiter {
  readonly #logger: Logger | undefined;
  readonly #metrics: Metrics | undefined;
  readonly #policies: Record<LimitedMethod, MethodPolicy>;
  readonly #now: () => number;
  readonly #slots = new Map<string, Slot>();
  /** Starts in the last minute, per method, oldest first. */
  readonly #starts = new Map<LimitedMethod, number[]>();
  readonly #pausedUntil = new Map<string, number>();
  readonly #observed = new WeakSet<WebClient>();
  /** The topic last set per channel, so an unchanged topic is not set again. */
  readonly #topics = new Map<string, string>();
  readonly #stats: Record<LimitedMethod, LimiterStats> = {
    'chat.update': { submitted: 0, started: 0 },
    'conversations.setTopic': { submitted: 0, started: 0 },
  };

  constructor(options: SlackRateLimiterOptions = {}) {
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#policies = { ...DEFAULT_POLICIES, ...options.policies };
    this.#now = options.now ?? (() => performance.now());
  }

  stats(method: LimitedMethod): LimiterStats {
    return { ...this.#stats[method] };
  }

  /**
   * Listens to the client's rate-limited answers: counts and logs them, and pauses that method
   * here for the Retry-After. Once per client (Bolt hands listeners pooled clients).
   */
  observe(client: WebClient): void {
    if (this.#observed.has(client)) return;
    this.#observed.add(client);
    client.on(WebClientEvent.RATE_LIMITED, (retryAfter: number, { url }: { url: string }) => {
      const method = url.replace(/^.*\//, '');
      this.#metrics?.slackApiErrors.inc({ method, error: 'rate_limited' });
      this.#logger?.warn({ method, retryAfter }, 'Slack rate-limited a call; waiting for its Retry-After');
      this.pause(method, retryAfter);
    });
  }

  /** No call of `method` starts here before `retryAfterSeconds` from now. */
  pause(method: string, retryAfterSeconds: number): void {
    const until = this.#now() + Math.max(0, retryAfterSeconds) * 1000;
    if (until > (this.#pausedUntil.get(method) ?? 0)) this.#pausedUntil.set(method, until);
  }

  /** `chat.update`, coalesced per message (latest wins). */
  updateMessage(
    client: WebClient,
    args: { channel: string; ts: string },
    build: () =>
      | Promise<Parameters<WebClient['chat']['update']>[0]>
      | Parameters<WebClient['chat']['update']>[0],
  ): Promise<Awaited<ReturnType<WebClient['chat']['update']>>> {
    this.observe(client);
    return this.submit('chat.update', `${args.channel}:${args.ts}`, async () =>
      client.chat.update(await build()),
    );
  }

  /**
   * `conversations.setTopic`, coalesced per channel; skipped when the topic is the one this
   * process set last (Slack posts "set the channel topic" in the channel on every call).
   * Resolves true when Slack was called.
   */
  setTopic(client: WebClient, channel: string, topic: () => Promise<string> | string): Promise<boolean> {
    this.observe(client);
    return this.submit('conversations.setTopic', channel, async () => {
      const text = await topic();
      if (this.#topics.get(channel) === text) return false;
      await client.conversations.setTopic({ channel, topic: text });
      this.#topics.set(channel, text);
      return true;
    });
  }

  /**
   * Runs `call` for `target` under the method's policy. Resolves with the result of this call, or
   * of the later one that replaced it before it started.
   */
  submit<T>(method: LimitedMethod, target: string, call: () => Promise<T>): Promise<T> {
    this.#stats[method].submitted += 1;
    const key = `${method} ${target}`;
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { method, key, pending: undefined, inFlight: undefined, lastStart: -Infinity, timer: undefined };
      this.#slots.set(key, slot);
    }
    const result = new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { resolve: resolve as (value: unknown) => void, reject };
      if (slot.pending) {
        slot.pending.call = call;
        slot.pending.waiters.push(waiter);
      } else {
        slot.pending = { call, waiters: [waiter] };
      }
    });
    this.#schedule(slot);
    return result;
  }

  /** Resolves once nothing is pending or in flight (or after `timeoutMs`). */
  async idle(timeoutMs = 5_000): Promise<void> {
    const deadline = this.#now() + timeoutMs;
    while (this.#now() < deadline) {
      const busy = [...this.#slots.values()].filter((s) => s.pending || s.inFlight);
      if (busy.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #schedule(slot: Slot): void {
    if (slot.inFlight || !slot.pending || slot.timer) return;
    const now = this.#now();
    const policy = this.#policies[slot.method];
    const readyAt = Math.max(
      slot.lastStart + policy.minGapMs,
      this.#budgetFreeAt(slot.method, now),
      this.#pausedUntil.get(slot.method) ?? 0,
    );
    if (readyAt > now) {
      slot.timer = setTimeout(
        () => {
          slot.timer = undefined;
          this.#schedule(slot);
        },
        Math.ceil(readyAt - now),
      );
      slot.timer.unref();
      return;
    }
    this.#start(slot, now);
  }

  /** When the method's next call fits in its sliding minute. */
  #budgetFreeAt(method: LimitedMethod, now: number): number {
    const starts = this.#starts.get(method) ?? [];
    while (starts.length > 0 && (starts[0] ?? 0) <= now - WINDOW_MS) starts.shift();
    this.#starts.set(method, starts);
    const limit = this.#policies[method].perMinute;
    if (starts.length < limit) return now;
    return (starts[starts.length - limit] ?? now) + WINDOW_MS;
  }

  #start(slot: Slot, now: number): void {
    const job = slot.pending;
    if (!job) return;
    slot.pending = undefined;
    slot.lastStart = now;
    this.#starts.get(slot.method)?.push(now);
    this.#stats[slot.method].started += 1;
    const skipped = job.waiters.length - 1;
    if (skipped > 0)
      this.#logger?.debug({ method: slot.method, target: slot.key, skipped }, 'coalesced Slack updates');
    slot.inFlight = Promise.resolve()
      .then(job.call)
      .then(
        (value) => {
          for (const w of job.waiters) w.resolve(value);
        },
        (error: unknown) => {
          for (const w of job.waiters) w.reject(error);
        },
      )
      .finally(() => {
        slot.inFlight = undefined;
        if (slot.pending) this.#schedule(slot);
        else this.#forgetLater(slot);
      });
  }

  /** Drops an idle slot once its spacing no longer matters, so the map does not grow forever. */
  #forgetLater(slot: Slot): void {
    const gap = this.#policies[slot.method].minGapMs;
    const timer = setTimeout(
      () => {
        const idle = !slot.pending && !slot.inFlight && !slot.timer;
        if (!idle || this.#slots.get(slot.key) !== slot) return;
        if (this.#now() >= slot.lastStart + gap) this.#slots.delete(slot.key);
        else this.#forgetLater(slot);
      },
      Math.max(0, Math.ceil(slot.lastStart + gap - this.#now())),
    );
    timer.unref();
  }
}

// The Slack layer's part of Services: src/services.ts imports nothing from src/slack/.
declare module '../../services.ts' {
  interface Services {
    /** Every chat.update and conversations.setTopic goes through it: coalesced, under Slack's tiers. */
    slackRate: SlackRateLimiter;
  }
}
