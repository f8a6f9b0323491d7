/**
 * Recorded multi-step flows: a run (flow + subject, e.g. the Slack setup of INC-42) stores each step
 * right after it is done, so a run cut short (a crash, a kill -9, a lost lease) is finished later by
 * whoever claims it next, skipping the steps already done. Claims are leases in Postgres, renewed at
 * each step, so two replicas never work on one run at once; a worker whose lease was taken over
 * cannot record anything more (FlowClaimLostError). Knows nothing about Slack.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import type { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Db, Queryable } from '../store/db.ts';
import {
  type FlowOutcome,
  type FlowRun,
  FlowRunRepository,
  type StepRecord,
} from '../store/repositories/flow-runs.ts';
import type { JsonObject } from '../store/repositories/rows.ts';

/** How long a claim holds without a step recorded; a crashed worker's runs are free again after it. */
export const FLOW_LEASE_MS = 30_000;
/** Claims of one run before it is given up (logged), so a run that always fails is not retried forever. */
export const FLOW_MAX_ATTEMPTS = 5;

/** The worker's claim on a run was taken over by another worker (its lease ran out): stop here. */
export class FlowClaimLostError extends Error {
  override name = 'FlowClaimLostError';
  constructor(flow: string, subject: string) {
    super(`lost the claim on ${flow} ${subject}: another worker finishes it`);
  }
}

/** A run this worker holds: its input, the steps done so far, and recording the next ones. */
export class ClaimedRun {
  readonly owner: string;
  #run: FlowRun;
  readonly #flows: Flows;

  constructor(flows: Flows, run: FlowRun, owner: string) {
    this.#flows = flows;
    this.#run = run;
    this.owner = owner;
  }

  get flow(): string {
    return this.#run.flow;
  }

  get subject(): string {
    return this.#run.subject;
  }

  get input(): JsonObject {
    return this.#run.input;
  }

  /** 1 for the first run, 2 and up when finishing what an earlier one left. */
  get attempts(): number {
    return this.#run.attempts;
  }

  /** The step as recorded (done or failed for good), or undefined when it still has to be done. */
  step(name: string): StepRecord | undefined {
    return this.#run.steps[name];
  }

  /** The recorded result of a step that succeeded, parsed; undefined when not done or failed. */
  result<S extends z.ZodType>(name: string, schema: S): z.output<S> | undefined {
    const record = this.#run.steps[name];
    if (!record || record.failed !== null) return undefined;
    const parsed = schema.safeParse(record.result);
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * Records a step (its result, or the error it failed with for good) and renews the lease, in one
   * transaction with `effect` (what the step changes on the subject, e.g. the incident's channel id).
   * Throws FlowClaimLostError (and records nothing) when another worker took the run over.
   */
  async record(
    name: string,
    outcome: { result?: object | null; failed?: string | null },
    effect?: (tx: Queryable) => Promise<void>,
  ): Promise<void> {
    this.#run = await this.#flows.record(this, name, outcome, effect);
  }

  /** Marks the run finished (completed by default); throws FlowClaimLostError when taken over. */
  async finish(outcome: FlowOutcome = 'completed'): Promise<void> {
    await this.#flows.finish(this, outcome);
  }

  /** Lets go of the run unfinished, so another worker can take it at once. */
  release(): Promise<void> {
    return this.#flows.release(this);
  }
}

export interface FlowsOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  leaseMs?: number;
}

/** The recorded flows of one process: claims, step records, and the runs in progress here. */
export class Flows {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #running = new Map<string, Promise<unknown>>();

  constructor(options: FlowsOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#leaseMs = options.leaseMs ?? FLOW_LEASE_MS;
  }

  /** A fresh owner token for one run of one flow (this process, plus a random part). */
  newOwner(): string {
    return `${this.#worker}:${randomUUID().slice(0, 8)}`;
  }

  /** The claim to create a run with (the domain inserts the run in the transaction of its subject). */
  newClaim(): { owner: string; until: Date } {
    return { owner: this.newOwner(), until: this.#leaseEnd() };
  }

  /** The run created with `newClaim()`'s owner, as a ClaimedRun. */
  claimed(run: FlowRun, owner: string): ClaimedRun {
    return new ClaimedRun(this, run, owner);
  }

  get(flow: string, subject: string): Promise<FlowRun | null> {
    return this.#repo(this.#db).get(flow, subject);
  }

  /** Claims one unfinished run that nobody holds (or whose holder's lease ran out). */
  async claim(flow: string, subject: string): Promise<ClaimedRun | null> {
    const owner = this.newOwner();
    const run = await this.#repo(this.#db).claim(flow, subject, owner, this.#leaseEnd());
    return run ? new ClaimedRun(this, run, owner) : null;
  }

  /**
   * Claims the run to finish it here. When another worker holds it, waits (up to `timeoutMs`) for
   * that worker to finish it or for its lease to run out. Null when there is nothing left to do here:
   * no such run, finished, or still held by a live worker after the wait.
   */
  async claimOrWait(flow: string, subject: string, timeoutMs: number): Promise<ClaimedRun | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - performance.now();
      const local = this.running(flow, subject);
      if (local) {
        if (remaining <= 0) return null;
        await Promise.race([local.catch(() => undefined), sleep(remaining)]);
        if (this.running(flow, subject) === local) return null;
        continue;
      }
      const claimed = await this.claim(flow, subject);
      if (claimed) return claimed;
      const run = await this.get(flow, subject);
      if (!run || run.finishedAt !== null || remaining <= 0) return null;
      await sleep(Math.min(250, remaining));
    }
  }

  /** Claims up to `limit` unfinished runs of a flow nobody holds, oldest first (replicas get disjoint ones). */
  async claimPending(flow: string, limit: number): Promise<ClaimedRun[]> {
    const owner = this.newOwner();
    const runs = await this.#repo(this.#db).claimPending(flow, owner, this.#leaseEnd(), {
      limit,
      maxAttempts: FLOW_MAX_ATTEMPTS,
    });
    return runs.map((run) => new ClaimedRun(this, run, owner));
  }

  /** Gives up, loudly, on runs that were claimed FLOW_MAX_ATTEMPTS times without finishing. */
  async abandonExhausted(flow: string): Promise<FlowRun[]> {
    const abandoned = await this.#repo(this.#db).abandonExhausted(flow, FLOW_MAX_ATTEMPTS);
    for (const run of abandoned) {
      this.#logger.error(
        { flow, subject: run.subject, attempts: run.attempts, steps: Object.keys(run.steps) },
        `gave up on ${flow} ${run.subject} after ${run.attempts} attempts: finish it by hand`,
      );
    }
    return abandoned;
  }

  /**
   * Remembers that this process works on a run until `work` settles, so that a retry of the same
   * request in this process waits for it instead of answering before it is done.
   */
  track<T>(flow: string, subject: string, work: Promise<T>): Promise<T> {
    const key = `${flow}\u0000${subject}`;
    this.#running.set(key, work);
    const forget = () => {
      if (this.#running.get(key) === work) this.#running.delete(key);
    };
    work.then(forget, forget);
    return work;
  }

  /** The work on this run in progress in this process, if any. */
  running(flow: string, subject: string): Promise<unknown> | undefined {
    return this.#running.get(`${flow}\u0000${subject}`);
  }

  async record(
    run: ClaimedRun,
    name: string,
    outcome: { result?: object | null; failed?: string | null },
    effect?: (tx: Queryable) => Promise<void>,
  ): Promise<FlowRun> {
    return this.#db.transaction(async (tx) => {
      const updated = await this.#repo(tx).recordStep(
        run.flow,
        run.subject,
        run.owner,
        name,
        outcome,
        this.#leaseEnd(),
      );
      if (!updated) throw new FlowClaimLostError(run.flow, run.subject);
      await effect?.(tx);
      return updated;
    });
  }

  async finish(run: ClaimedRun, outcome: FlowOutcome): Promise<void> {
    const finished = await this.#repo(this.#db).finish(run.flow, run.subject, run.owner, outcome);
    if (!finished) throw new FlowClaimLostError(run.flow, run.subject);
  }

  release(run: ClaimedRun): Promise<void> {
    return this.#repo(this.#db).release(run.flow, run.subject, run.owner);
  }

  #leaseEnd(): Date {
    return addMilliseconds(this.#clock.now(), this.#leaseMs);
  }

  #repo(q: Queryable): FlowRunRepository {
    return new FlowRunRepository(q, this.#clock);
  }
}
