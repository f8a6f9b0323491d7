/**
 * Gradual roll-outs (`/deploy rollout`): an operation of kind 'rollout' goes through the usual
 * request → confirm card; once confirmed it is a state machine in Postgres (rollout_runs), driven by
 * durable timers with subject `operation:<id>`:
 *   - `deploy.rollout-step` (one per roll-out, re-scheduled): moves traffic to the next step. The
 *     step index moves by compare-and-set (k-1 → k) before the platform call, and `step_applied`
 *     records that the platform took it, so a restart or a second replica neither repeats nor skips
 *     a step (a re-run after a crash re-applies the same declarative split, nothing more).
 *   - `deploy.rollout-measure` (one per metric): one measurement, then the next one scheduled.
 * A failed analysis moves all traffic back to the previous revision by itself; an unreadable metric
 * pauses (state inconclusive) and asks a human. At the last step (100 %) the roll-out succeeds.
 * Knows nothing about Slack: RolloutNotifier says what happened.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { RunbookConfig, ServiceConfig } from '../config/schema.ts';
import type { HealthService } from '../health/service.ts';
import type { Logger } from '../logger.ts';
import type { Platform } from '../platform/platform.ts';
import type { Db, Queryable } from '../store/db.ts';
import type { AuditOutcome } from '../store/repositories/audit.ts';
import { repositories } from '../store/repositories/index.ts';
import type { Operation } from '../store/repositories/operations.ts';
import type {
  Measurement,
  Promotion,
  RolloutPatch,
  RolloutRun,
  RolloutState,
} from '../store/repositories/rollouts.ts';
import type { JsonObject } from '../store/repositories/rows.ts';
import { TimerRepository } from '../store/repositories/timers.ts';
import { type DueTimer, readPayload, type TimerHandler } from '../timers/timers.ts';
import { formatValue, measure } from './analysis.ts';
import {
  type ApprovalProgress,
  type ApprovalRule,
  type Approver,
  type ApproverDirectory,
  configApprovers,
  needsApproval,
  parseRule,
  progress,
  ruleFor,
  ruleJson,
  ruleText,
} from './approval-rules.ts';
import { type PromotionTimelineEvent, promotionTimelineEvent } from './incident-timeline.ts';
import type { PlannedMetric, RolloutPlan } from './rollout-plan.ts';
import { recordTransition } from './transition-record.ts';

export const ROLLOUT_STEP_TIMER = 'deploy.rollout-step';
export const ROLLOUT_MEASURE_TIMER = 'deploy.rollout-measure';
export const rolloutSubject = (operationId: string): string => `operation:${operationId}`;
const stepTimerId = (id: string) => `rollout-step:${id}`;
const measureTimerId = (id: string, metric: number) => `rollout-measure:${id}:${metric}`;
/** A roll-out that rolled back or was aborted finishes inline; this timer finishes it after a crash. */
const FINISH_SAFETY_MS = 30_000;
/** Compare-and-set attempts of a timer handler before it gives up (and its timer is tried again later). */
const CAS_ATTEMPTS = 5;

export type RolloutEvent =
  | 'step'
  | 'measured'
  | 'paused'
  | 'resumed'
  | 'inconclusive'
  | 'rolled_back'
  | 'aborted'
  | 'promoted'
  /** "Promote now" asked for, or approved, and still waiting for approvals. */
  | 'promotion'
  | 'succeeded';

/** What the roll-out must say (implemented in src/slack/deploy/rollout-notifier.ts). */
export interface RolloutNotifier {
  /** The roll-out moved: the card in place, a line in the #deployments thread where it matters. */
  progressed(op: Operation, run: RolloutRun, event: RolloutEvent): Promise<void>;
  /** The operation finished (succeeded or failed): the card's last word and #deployments. */
  finished(op: Operation, event: 'succeeded' | 'failed'): Promise<void>;
}

export interface RolloutDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: RunbookConfig;
  health: HealthService;
  env: NodeJS.ProcessEnv;
  platformFor(service: ServiceConfig): Promise<Platform>;
  notifier: RolloutNotifier;
  /** Approver groups' members (Slack user groups too); default: the user ids in `approvers` only. */
  approvers?: ApproverDirectory;
}

const metricSchema = z.object({
  name: z.string(),
  provider: z.enum(['health', 'prometheus']),
  query: z.string().optional(),
  intervalMs: z.number(),
  count: z.number(),
  failureCondition: z.string().optional(),
  successCondition: z.string().optional(),
  failureLimit: z.number(),
});
const planSchema = z.object({
  fromRevision: z.string(),
  toRevision: z.string(),
  toImage: z.string().nullable(),
  steps: z.array(z.number()).min(1),
  intervalMs: z.number(),
  intervalText: z.string(),
  holdMs: z.number(),
  analysis: z.array(metricSchema),
});

/** The roll-out's plan from the operation's params (fixed when it was asked for). */
export function rolloutPlan(op: Operation): RolloutPlan {
  const parsed = planSchema.parse(op.params);
  return {
    ...parsed,
    analysis: parsed.analysis.map((m) => {
      const metric: PlannedMetric = {
        name: m.name,
        provider: m.provider,
        intervalMs: m.intervalMs,
        count: m.count,
        failureLimit: m.failureLimit,
      };
      if (m.query !== undefined) metric.query = m.query;
      if (m.failureCondition !== undefined) metric.failureCondition = m.failureCondition;
      if (m.successCondition !== undefined) metric.successCondition = m.successCondition;
      return metric;
    }),
  };
}

/**
 * Called in the transaction that confirms the operation (running): the run is recorded and the first
 * step is due at once.
 */
export async function beginRollout(tx: Queryable, clock: Clock, op: Operation): Promise<void> {
  await repositories(tx, clock).rollouts.create(op.id, op.params);
  await new TimerRepository(tx, clock).schedule({
    id: stepTimerId(op.id),
    kind: ROLLOUT_STEP_TIMER,
    subject: rolloutSubject(op.id),
    payload: { operation: op.id, step: 0 },
    dueAt: clock.now(),
  });
}

/** The measurements of one metric in the current step and round. */
export function currentMeasurements(run: RolloutRun, metric: string): Measurement[] {
  return run.measurements.filter(
    (m) => m.step === run.stepIndex && m.round === run.analysisRound && m.metric === metric,
  );
}

const stepPayload = z.object({ operation: z.string(), step: z.number().int().min(0) });
const measurePayload = z.object({
  operation: z.string(),
  step: z.number().int().min(0),
  round: z.number().int().min(0),
  metric: z.number().int().min(0),
  n: z.number().int().min(1),
});

export type ControlOutcome =
  | { kind: 'done'; operation: Operation; run: RolloutRun }
  | { kind: 'not_found' }
  | { kind: 'not_allowed'; operation: Operation }
  | { kind: 'moved'; operation: Operation; run: RolloutRun | null }
  /**
   * "Promote now" recorded but not done: it waits for approvals. `why`: this click asked for it, or
   * approved it; or it changed nothing (the requester, who may not approve; an approver who already
   * did; someone whose approval would not count).
   */
  | {
      kind: 'promotion_pending';
      operation: Operation;
      run: RolloutRun;
      why: 'asked' | 'approved' | 'self' | 'already' | 'not_needed';
      progress: ApprovalProgress;
    };

/** The approvals of a promotion, as the approval rules count them. */
export function promotionApprovers(promotion: Promotion): Approver[] {
  return promotion.approvals.map((a) => ({ approver: a.approver, groups: a.groups }));
}

/** The rule a promotion is judged by, and how far its approvals are (null when nobody asked). */
export function promotionProgress(
  run: RolloutRun,
): { rule: ApprovalRule; promotion: Promotion; progress: ApprovalProgress } | null {
  const promotion = run.promotion;
  const rule = promotion ? parseRule(promotion.rule) : null;
  if (!promotion || !rule) return null;
  return { rule, promotion, progress: progress(rule, promotionApprovers(promotion)) };
}

interface AuditRow {
  outcome: AuditOutcome;
  actor: string;
  details?: JsonObject;
}

const FINAL_RUN: readonly RolloutState[] = ['rolled_back', 'succeeded', 'aborted'];

export class RolloutService {
  readonly #d: RolloutDeps;

  constructor(deps: RolloutDeps) {
    this.#d = deps;
  }

  get #repos() {
    return repositories(this.#d.db, this.#d.clock);
  }

  #service(op: Operation): ServiceConfig | undefined {
    return this.#d.config.services.find((s) => s.name === op.service && s.environment === op.environment);
  }

  get #directory(): ApproverDirectory {
    return this.#d.approvers ?? configApprovers(this.#d.config);
  }

  /**
   * The requester, or an approver of the operation's environment: in a group of
   * `approvals.<env>.fromGroups`, of the rule the operation was approved under, or the emergency
   * approver group, directly or through a Slack user group.
   */
  async mayControl(op: Operation, user: string): Promise<boolean> {
    if (op.requestedBy === user) return true;
    const groups = new Set([
      ...(this.#d.config.approvals[op.environment]?.fromGroups ?? []),
      ...(parseRule(op.approvalRule)?.fromGroups ?? []),
      this.#d.config.deploy.emergencyApproverGroup,
    ]);
    return (await this.#directory.groupsOf(user, [...groups])).length > 0;
  }

  /**
   * The rule "Promote now" needs, as for any change of the environment: the one the operation was
   * approved under (an emergency's included); else the environment's now (its duringIncident while
   * a linked exempt incident is open).
   */
  async #promotionRule(op: Operation): Promise<ApprovalRule> {
    const stored = parseRule(op.approvalRule);
    if (stored) return stored;
    let duringIncident = false;
    if (op.incidentNumber !== null) {
      const incident = await this.#repos.incidents.get(op.incidentNumber);
      duringIncident =
        incident !== null &&
        incident.status !== 'resolved' &&
        this.#d.config.deploy.incidentExemption.includes(incident.severity);
    }
    return ruleFor(this.#d.config, op.environment, duringIncident);
  }

  async get(id: string): Promise<{ operation: Operation; run: RolloutRun | null } | null> {
    const operation = await this.#repos.operations.get(id);
    if (!operation) return null;
    return { operation, run: await this.#repos.rollouts.get(id) };
  }

  /** One run change (compare-and-set) with its audit row and the timers it needs, in one transaction. */
  async #change(
    op: Operation,
    run: RolloutRun,
    patch: RolloutPatch,
    audits: AuditRow | AuditRow[] | null,
    timers: (t: TimerRepository, moved: RolloutRun) => Promise<void> = async () => {},
    timeline?: { event: PromotionTimelineEvent; actor: string; text: string },
  ): Promise<RolloutRun | null> {
    return this.#d.db.transaction(async (tx) => {
      const repos = repositories(tx, this.#d.clock);
      const moved = await repos.rollouts.update(run, patch);
      if (!moved) return null;
      for (const audit of audits === null ? [] : Array.isArray(audits) ? audits : [audits]) {
        await repos.audit.append({
          at: this.#d.clock.now(),
          actor: audit.actor,
          action: 'deploy.rollout',
          outcome: audit.outcome,
          service: op.service,
          environment: op.environment,
          incidentNumber: op.incidentNumber,
          operationId: op.id,
          details: {
            state: moved.state,
            step: moved.stepIndex,
            reason: moved.reason,
            ...(audit.details ?? {}),
          },
        });
      }
      if (timeline) {
        const event = promotionTimelineEvent(
          op,
          timeline.event,
          timeline.actor,
          this.#d.clock.now(),
          timeline.text,
        );
        if (event) await repos.timeline.add(event);
      }
      await timers(new TimerRepository(tx, this.#d.clock), moved);
      return moved;
    });
  }

  async #tell(op: Operation, run: RolloutRun, event: RolloutEvent): Promise<void> {
    try {
      await this.#d.notifier.progressed(op, run, event);
    } catch (error) {
      this.#d.logger.warn({ err: error, operation: op.id, event }, 'could not tell about a roll-out');
    }
  }

  /** The operation's last transition (running → succeeded | failed) with its audit and timeline rows. */
  async #finishOperation(
    op: Operation,
    state: 'succeeded' | 'failed',
    error: string | null,
    result: JsonObject,
  ): Promise<Operation | null> {
    const finished = await this.#d.db.transaction(async (tx) => {
      const repos = repositories(tx, this.#d.clock);
      const now = this.#d.clock.now();
      const moved = await repos.operations.transition(op.id, ['running', 'verifying'], state, {
        result: { ...(op.result ?? {}), ...result },
        finishedAt: now,
        leaseUntil: null,
        ...(error !== null ? { error } : {}),
      });
      if (!moved) return null;
      await recordTransition(repos, this.#d.config, {
        op,
        moved,
        to: state,
        event: state,
        actor: 'bot',
        at: now,
        details: {
          durationMs: moved.startedAt ? differenceInMilliseconds(now, moved.startedAt) : null,
          ...(error ? { error } : {}),
        },
      });
      await repos.timers.cancelSubject(rolloutSubject(op.id));
      return moved;
    });
    if (finished) {
      try {
        await this.#d.notifier.finished(finished, state);
      } catch (err) {
        this.#d.logger.warn({ err, operation: op.id }, 'could not tell about a finished roll-out');
      }
    }
    return finished;
  }

  #stepsOf(op: Operation) {
    const service = this.#service(op);
    if (!service) throw new Error(`${op.service} (${op.environment}) is no longer configured`);
    return { service, plan: rolloutPlan(op) };
  }

  async #platformSteps(service: ServiceConfig) {
    const platform = await this.#d.platformFor(service);
    if (!platform.trafficSteps) throw new Error(`${service.name}: the platform has no traffic split`);
    return platform.trafficSteps;
  }

  // ------------------------------------------------------------------ timers

  /** `deploy.rollout-step`: traffic to step `step` (or, for a run that ended, the operation finished). */
  async onStepTimer(timer: DueTimer): Promise<void> {
    const payload = readPayload(stepPayload, timer, this.#d.logger, 'roll-out step timer');
    if (payload === null) return;
    // A measurement landing at the same moment changes the run's version: decide again on the new one.
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      if ((await this.#stepOnce(payload)) !== 'conflict') return;
    }
    throw new Error(`roll-out ${payload.operation} kept changing; the step is tried again later`);
  }

  async #stepOnce(payload: z.output<typeof stepPayload>): Promise<'done' | 'conflict'> {
    const found = await this.get(payload.operation);
    if (!found?.run || found.operation.state !== 'running') return 'done';
    const { operation: op } = found;
    let run = found.run;
    if (run.state === 'rolled_back' || run.state === 'aborted') {
      await this.#revertAndFinish(op, run);
      return 'done';
    }
    const { service, plan } = this.#stepsOf(op);
    if (run.state === 'succeeded') {
      // At 100 % already; the replica that got there stopped before the operation was finished.
      await this.#finishSucceeded(op, plan, 'traffic already at 100 %');
      return 'done';
    }
    if (run.state !== 'running') return 'done';
    const k = payload.step;
    const now = this.#d.clock.now();
    if (run.stepIndex === k - 1) {
      if (k > 0) {
        const pending = plan.analysis.filter((m) => currentMeasurements(run, m.name).length < m.count);
        if (pending.length > 0) {
          // The analysis of the current step is not done yet: the next step waits for it.
          const waitMs = Math.min(...pending.map((m) => m.intervalMs));
          await this.#d.db.transaction((tx) =>
            new TimerRepository(tx, this.#d.clock).schedule({
              id: stepTimerId(op.id),
              kind: ROLLOUT_STEP_TIMER,
              subject: rolloutSubject(op.id),
              payload: { operation: op.id, step: k },
              dueAt: addMilliseconds(now, waitMs),
            }),
          );
          return 'done';
        }
      }
      const moved = await this.#change(
        op,
        run,
        { stepIndex: k, stepApplied: false, stepStartedAt: now, analysisRound: 0, nextStepAt: null },
        { outcome: 'step', actor: 'bot', details: { percent: plan.steps[k] ?? null } },
      );
      if (!moved) return 'conflict';
      run = moved;
    } else if (!(run.stepIndex === k && !run.stepApplied)) {
      return 'done'; // Done already (a stale or repeated timer).
    }
    await this.#apply(op, run, service, plan);
    return 'done';
  }

  /** Shifts the platform to the run's current step; then the analysis and the next step are scheduled. */
  async #apply(op: Operation, run: RolloutRun, service: ServiceConfig, plan: RolloutPlan): Promise<void> {
    const k = run.stepIndex;
    const percent = plan.steps[k] ?? 100;
    const last = k >= plan.steps.length - 1;
    let summary: string;
    try {
      const steps = await this.#platformSteps(service);
      const change = await steps.shift({
        fromRevision: plan.fromRevision,
        toRevision: plan.toRevision,
        percent,
      });
      summary = change.summary;
    } catch (error) {
      const why = `could not shift ${percent} % of traffic to ${plan.toRevision}: ${error instanceof Error ? error.message : String(error)}`;
      const paused = await this.#change(
        op,
        run,
        { state: 'paused', reason: why },
        { outcome: 'paused', actor: 'bot' },
      );
      if (paused) await this.#tell(op, paused, 'paused');
      return;
    }
    const now = this.#d.clock.now();
    // Whatever the CAS below finds, the shift has landed: if the run moved meanwhile (aborted or
    // rolled back while the platform was shifting), the shift must not stand.
    const undoIfMoved = async (): Promise<void> => {
      const after = await this.get(op.id);
      if (after?.run && (after.run.state === 'aborted' || after.run.state === 'rolled_back')) {
        const steps = await this.#platformSteps(service);
        await steps.revert({ fromRevision: plan.fromRevision, toRevision: plan.toRevision });
        this.#d.logger.warn(
          { operation: op.id },
          'a traffic shift landed after the roll-out ended: moved back',
        );
      }
    };
    if (last) {
      const done = await this.#change(
        op,
        run,
        { stepApplied: true, state: 'succeeded', nextStepAt: null },
        { outcome: 'succeeded', actor: 'bot', details: { percent, platformAnswer: summary } },
        (timers) => this.#finishSafety(timers, op.id, k),
      );
      if (!done) return undoIfMoved();
      await this.#tell(op, done, 'succeeded');
      await this.#finishSucceeded(op, plan, summary);
      return;
    }
    const nextAt = addMilliseconds(now, plan.holdMs);
    const applied = await this.#change(
      op,
      run,
      { stepApplied: true, nextStepAt: nextAt },
      null,
      async (timers, moved) => {
        await this.#scheduleAnalysis(timers, op.id, moved, plan, now);
        await timers.schedule({
          id: stepTimerId(op.id),
          kind: ROLLOUT_STEP_TIMER,
          subject: rolloutSubject(op.id),
          payload: { operation: op.id, step: k + 1 },
          dueAt: nextAt,
        });
      },
    );
    if (applied) await this.#tell(op, applied, 'step');
    else await undoIfMoved();
  }

  async #scheduleAnalysis(
    timers: TimerRepository,
    id: string,
    run: RolloutRun,
    plan: RolloutPlan,
    from: Date,
  ): Promise<void> {
    for (const [index, metric] of plan.analysis.entries()) {
      await timers.schedule({
        id: measureTimerId(id, index),
        kind: ROLLOUT_MEASURE_TIMER,
        subject: rolloutSubject(id),
        payload: { operation: id, step: run.stepIndex, round: run.analysisRound, metric: index, n: 1 },
        dueAt: addMilliseconds(from, metric.intervalMs),
      });
    }
  }

  /** `deploy.rollout-measure`: one measurement of one metric, judged; the next one scheduled. */
  async onMeasureTimer(timer: DueTimer): Promise<void> {
    const payload = readPayload(measurePayload, timer, this.#d.logger, 'roll-out measure timer');
    if (payload === null) return;
    const { step, round, n } = payload;
    const first = await this.get(payload.operation);
    if (!first?.run || first.operation.state !== 'running') return;
    const { service, plan } = this.#stepsOf(first.operation);
    const metric = plan.analysis[payload.metric];
    if (!metric) return;
    const stale = (run: RolloutRun) =>
      run.state !== 'running' ||
      run.stepIndex !== step ||
      run.analysisRound !== round ||
      !run.stepApplied ||
      currentMeasurements(run, metric.name).some((m) => m.n === n);
    if (stale(first.run)) return;
    const measured = await measure(metric, service, { health: this.#d.health, env: this.#d.env });
    const now = this.#d.clock.now();
    const measurement: Measurement = {
      step,
      round,
      metric: metric.name,
      n,
      at: now.toISOString(),
      ...measured,
    };
    // Other metrics land at the same moment: record this one on the run as it is now.
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const found = attempt === 0 ? first : await this.get(payload.operation);
      if (!found?.run || found.operation.state !== 'running' || stale(found.run)) return;
      const recorded = await this.#record(found.operation, found.run, plan, metric, measurement, payload);
      if (recorded) return;
    }
    throw new Error(`roll-out ${payload.operation} kept changing; the measurement is tried again later`);
  }

  /** Records one measurement and what follows from it; false when the run changed meanwhile. */
  async #record(
    op: Operation,
    run: RolloutRun,
    plan: RolloutPlan,
    metric: PlannedMetric,
    measurement: Measurement,
    payload: z.output<typeof measurePayload>,
  ): Promise<boolean> {
    const { step, n } = payload;
    const now = this.#d.clock.now();
    const failures =
      currentMeasurements(run, metric.name).filter((m) => m.phase === 'failed').length +
      (measurement.phase === 'failed' ? 1 : 0);
    const percent = plan.steps[step] ?? 100;
    const valueText = formatValue(metric.name, measurement.value);
    if (measurement.phase === 'inconclusive') {
      const reason = `${metric.name} could not be judged at ${percent} %: ${measurement.detail}`;
      const paused = await this.#change(
        op,
        run,
        { addMeasurement: measurement, state: 'inconclusive', reason, nextStepAt: null },
        { outcome: 'inconclusive', actor: 'bot', details: { measurement: { ...measurement } } },
        async (timers) => void (await timers.cancelSubject(rolloutSubject(op.id))),
      );
      if (paused) await this.#tell(op, paused, 'inconclusive');
      return paused !== null;
    }
    if (failures > metric.failureLimit) {
      const reason = `${metric.name} ${valueText} (${measurement.detail}) at ${percent} %, measurement ${n} of ${metric.count}; ${failures} failed, more than the ${metric.failureLimit} allowed`;
      const rolled = await this.#change(
        op,
        run,
        { addMeasurement: measurement, state: 'rolled_back', reason, nextStepAt: null },
        { outcome: 'rolled_back', actor: 'bot', details: { measurement: { ...measurement } } },
        async (timers) => {
          await timers.cancelSubject(rolloutSubject(op.id));
          await this.#finishSafety(timers, op.id, step);
        },
      );
      if (rolled) await this.#revertAndFinish(op, rolled);
      return rolled !== null;
    }
    const next = await this.#change(op, run, { addMeasurement: measurement }, null, async (timers) => {
      if (n < metric.count) {
        await timers.schedule({
          id: measureTimerId(op.id, payload.metric),
          kind: ROLLOUT_MEASURE_TIMER,
          subject: rolloutSubject(op.id),
          payload: { ...payload, n: n + 1 },
          dueAt: addMilliseconds(now, metric.intervalMs),
        });
      }
    });
    if (next) await this.#tell(op, next, 'measured');
    return next !== null;
  }

  async #finishSucceeded(op: Operation, plan: RolloutPlan, summary: string): Promise<void> {
    await this.#finishOperation(op, 'succeeded', null, {
      revisionAfter: plan.toRevision,
      imageAfter: plan.toImage,
      platformAnswer: summary,
      rollout: { state: 'succeeded', steps: plan.steps },
    });
  }

  async #finishSafety(timers: TimerRepository, id: string, step: number): Promise<void> {
    await timers.schedule({
      id: stepTimerId(id),
      kind: ROLLOUT_STEP_TIMER,
      subject: rolloutSubject(id),
      payload: { operation: id, step },
      dueAt: addMilliseconds(this.#d.clock.now(), FINISH_SAFETY_MS),
    });
  }

  /** A run that rolled back or was aborted: all traffic back on the previous revision, the operation failed. */
  async #revertAndFinish(op: Operation, run: RolloutRun): Promise<void> {
    const { service, plan } = this.#stepsOf(op);
    let back: string;
    try {
      const steps = await this.#platformSteps(service);
      back = (await steps.revert({ fromRevision: plan.fromRevision, toRevision: plan.toRevision })).summary;
    } catch (error) {
      // The safety timer tries again (the handler throws: the timer backs off).
      this.#d.logger.error({ err: error, operation: op.id }, 'could not move traffic back after a roll-out');
      throw error;
    }
    await this.#tell(op, run, run.state === 'aborted' ? 'aborted' : 'rolled_back');
    const what = run.state === 'aborted' ? 'aborted' : 'rolled back';
    await this.#finishOperation(
      op,
      'failed',
      `${what}: ${run.reason ?? 'no reason'}; all traffic back on ${plan.fromRevision}`,
      {
        // Not `revisionAfter`: a failed operation's revisionAfter counts as a bad revision (plan.ts).
        trafficBackOn: plan.fromRevision,
        platformAnswer: back,
        rollout: { state: run.state, step: run.stepIndex, reason: run.reason },
        failedChecks: run.state === 'rolled_back' && run.reason ? [run.reason] : [],
      },
    );
  }

  // ------------------------------------------------------------------ buttons

  async #controlled(
    id: string,
    user: string,
  ): Promise<{ kind: 'ok'; op: Operation; run: RolloutRun } | Exclude<ControlOutcome, { kind: 'done' }>> {
    const found = await this.get(id);
    if (!found) return { kind: 'not_found' };
    const { operation, run } = found;
    if (!(await this.mayControl(operation, user))) return { kind: 'not_allowed', operation };
    if (!run || operation.state !== 'running' || FINAL_RUN.includes(run.state))
      return { kind: 'moved', operation, run };
    return { kind: 'ok', op: operation, run };
  }

  async pause(id: string, user: string): Promise<ControlOutcome> {
    const c = await this.#controlled(id, user);
    if (c.kind !== 'ok') return c;
    if (c.run.state !== 'running') return { kind: 'moved', operation: c.op, run: c.run };
    const paused = await this.#change(
      c.op,
      c.run,
      { state: 'paused', reason: `paused by <@${user}>`, nextStepAt: null },
      { outcome: 'paused', actor: user },
      async (timers) => void (await timers.cancelSubject(rolloutSubject(c.op.id))),
    );
    if (!paused) return this.#movedNow(id);
    await this.#tell(c.op, paused, 'paused');
    return { kind: 'done', operation: c.op, run: paused };
  }

  /** Paused or inconclusive → running: a fresh analysis round of the current step (or its shift again). */
  async resume(id: string, user: string): Promise<ControlOutcome> {
    const c = await this.#controlled(id, user);
    if (c.kind !== 'ok') return c;
    if (c.run.state !== 'paused' && c.run.state !== 'inconclusive')
      return { kind: 'moved', operation: c.op, run: c.run };
    const { plan } = this.#stepsOf(c.op);
    const now = this.#d.clock.now();
    const applied = c.run.stepApplied && c.run.stepIndex >= 0;
    const nextAt = addMilliseconds(now, plan.holdMs);
    const resumed = await this.#change(
      c.op,
      c.run,
      {
        state: 'running',
        reason: null,
        analysisRound: c.run.analysisRound + 1,
        nextStepAt: applied ? nextAt : now,
      },
      { outcome: 'resumed', actor: user },
      async (timers, moved) => {
        if (!applied) {
          // Not yet on the platform (paused before or at a failed shift): the step is applied again.
          await timers.schedule({
            id: stepTimerId(c.op.id),
            kind: ROLLOUT_STEP_TIMER,
            subject: rolloutSubject(c.op.id),
            payload: { operation: c.op.id, step: Math.max(0, moved.stepIndex) },
            dueAt: now,
          });
          return;
        }
        await this.#scheduleAnalysis(timers, c.op.id, moved, plan, now);
        await timers.schedule({
          id: stepTimerId(c.op.id),
          kind: ROLLOUT_STEP_TIMER,
          subject: rolloutSubject(c.op.id),
          payload: { operation: c.op.id, step: moved.stepIndex + 1 },
          dueAt: nextAt,
        });
      },
    );
    if (!resumed) return this.#movedNow(id);
    await this.#tell(c.op, resumed, 'resumed');
    return { kind: 'done', operation: c.op, run: resumed };
  }

  /** Any time before the end: all traffic back on the previous revision. */
  async abort(id: string, user: string): Promise<ControlOutcome> {
    const c = await this.#controlled(id, user);
    if (c.kind !== 'ok') return c;
    const aborted = await this.#change(
      c.op,
      c.run,
      { state: 'aborted', reason: `aborted by <@${user}>`, nextStepAt: null },
      { outcome: 'aborted', actor: user },
      async (timers) => {
        await timers.cancelSubject(rolloutSubject(c.op.id));
        await this.#finishSafety(timers, c.op.id, Math.max(0, c.run.stepIndex));
      },
    );
    if (!aborted) return this.#movedNow(id);
    await this.#revertAndFinish(c.op, aborted);
    return { kind: 'done', operation: c.op, run: aborted };
  }

  /**
   * "Promote now": straight to 100 %, skipping the remaining steps and their analysis. When the
   * environment's rule needs approvals, each click is an approval of the promotion (distinct people,
   * one from each group, the requester only when self-approval is allowed; the requester's own click
   * asks for it) and the last approval needed promotes. With no approvals needed, one click does.
   */
  async promote(id: string, user: string): Promise<ControlOutcome> {
    // Other changes of the run (a measurement, another approval) land meanwhile: decide again.
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const outcome = await this.#promoteOnce(id, user);
      if (outcome !== 'conflict') return outcome;
    }
    return this.#movedNow(id);
  }

  async #promoteOnce(id: string, user: string): Promise<ControlOutcome | 'conflict'> {
    const found = await this.get(id);
    if (!found) return { kind: 'not_found' };
    const { operation: op, run } = found;
    const rule = (run?.promotion && parseRule(run.promotion.rule)) || (await this.#promotionRule(op));
    const approval = needsApproval(rule);
    const requester = op.requestedBy === user;
    const groups =
      approval && rule.fromGroups.length > 0 ? await this.#directory.groupsOf(user, rule.fromGroups) : [];
    // Whoever may approve the change may approve its promotion (a rule naming no group: anyone).
    const mayApprove = approval && !requester && (rule.fromGroups.length === 0 || groups.length > 0);
    if (!requester && !mayApprove && !(await this.mayControl(op, user)))
      return { kind: 'not_allowed', operation: op };
    if (!run || op.state !== 'running' || FINAL_RUN.includes(run.state))
      return { kind: 'moved', operation: op, run };
    const { plan } = this.#stepsOf(op);
    // At the last step (or on its way there) already: nothing left to promote.
    if (run.stepIndex >= plan.steps.length - 1) return { kind: 'moved', operation: op, run };
    if (!approval) return this.#promoteNow(op, run, user, plan, [], undefined);

    const now = this.#d.clock.now().toISOString();
    const asked: Promotion = run.promotion ?? {
      rule: ruleJson(rule),
      requestedBy: user,
      requestedAt: now,
      approvals: [],
    };
    const before = progress(rule, promotionApprovers(asked));
    const pending = (why: 'asked' | 'approved' | 'self' | 'already' | 'not_needed', at: RolloutRun) => ({
      kind: 'promotion_pending' as const,
      operation: op,
      run: at,
      why,
      progress: at.promotion ? progress(rule, promotionApprovers(at.promotion)) : before,
    });
    let why: 'self' | 'already' | 'not_needed' | null = null;
    let approved: Promotion | null = null;
    if (asked.approvals.some((a) => a.approver === user)) why = 'already';
    else if (requester && !rule.allowSelfApproval) why = 'self';
    else {
      const after = progress(rule, [...promotionApprovers(asked), { approver: user, groups }]);
      const counts =
        after.missing < before.missing || after.missingGroups.length < before.missingGroups.length;
      if (counts)
        approved = { ...asked, approvals: [...asked.approvals, { approver: user, groups, at: now }] };
      else why = 'not_needed';
    }
    const what = `the roll-out of ${op.service} (${op.environment}) to ${plan.toRevision}`;
    if (!approved) {
      // Changes nothing, except the first click, which asks for the promotion.
      if (run.promotion) return pending(why ?? 'not_needed', run);
      const moved = await this.#change(
        op,
        run,
        { promotion: asked },
        {
          outcome: 'requested',
          actor: user,
          details: { promotion: true, rule: ruleJson(rule), missingGroups: before.missingGroups },
        },
        undefined,
        {
          event: 'promotion_requested',
          actor: user,
          text: `Asked to promote ${what} to 100 % now; needs ${ruleText(rule)}`,
        },
      );
      if (!moved) return 'conflict';
      await this.#tell(op, moved, 'promotion');
      return pending('asked', moved);
    }
    const after = progress(rule, promotionApprovers(approved));
    const total = Math.max(rule.required, rule.fromGroups.length);
    const approvalAudit: AuditRow = {
      outcome: 'approved',
      actor: user,
      details: {
        promotion: true,
        approver: user,
        groups,
        approvers: after.approvers,
        missingGroups: after.missingGroups,
        satisfied: after.satisfied,
      },
    };
    const note = `${after.approvers.length} of ${total}${groups.length > 0 ? `, as ${groups.join(' and ')}` : ''}`;
    if (after.satisfied) {
      return this.#promoteNow(op, run, user, plan, [approvalAudit], approved, {
        event: 'promoted',
        actor: user,
        text: `Promoted ${what} to 100 % now, approved by ${after.approvers.map((a) => `<@${a}>`).join(', ')} (${note})`,
      });
    }
    const moved = await this.#change(op, run, { promotion: approved }, approvalAudit, undefined, {
      event: 'promotion_approved',
      actor: user,
      text: `Approved promoting ${what} to 100 % now (${note})`,
    });
    if (!moved) return 'conflict';
    await this.#tell(op, moved, 'promotion');
    return pending('approved', moved);
  }

  /** To the last step at once: the run moves (compare-and-set); the step timer, due now, shifts. */
  async #promoteNow(
    op: Operation,
    run: RolloutRun,
    user: string,
    plan: RolloutPlan,
    audits: AuditRow[],
    promotion: Promotion | undefined,
    timeline?: { event: PromotionTimelineEvent; actor: string; text: string },
  ): Promise<ControlOutcome | 'conflict'> {
    const last = plan.steps.length - 1;
    const approvers = promotion ? promotion.approvals.map((a) => a.approver) : [];
    const promoted = await this.#change(
      op,
      run,
      {
        state: 'running',
        stepIndex: last,
        stepApplied: false,
        reason: `promoted by <@${user}>${approvers.length > 0 ? `, approved by ${approvers.map((a) => `<@${a}>`).join(', ')}` : ''}`,
        nextStepAt: null,
        ...(promotion ? { promotion } : {}),
      },
      [
        ...audits,
        {
          outcome: 'promoted',
          actor: user,
          details: { fromStep: run.stepIndex, ...(promotion ? { approvers } : {}) },
        },
      ],
      async (timers) => {
        await timers.cancelSubject(rolloutSubject(op.id));
        // The shift to 100 % is the step timer's, due now: only the replica holding its lease calls
        // the platform (a shift here too would race it, and an App Service swap twice swaps back).
        await timers.schedule({
          id: stepTimerId(op.id),
          kind: ROLLOUT_STEP_TIMER,
          subject: rolloutSubject(op.id),
          payload: { operation: op.id, step: last },
          dueAt: this.#d.clock.now(),
        });
      },
      timeline ?? {
        event: 'promoted',
        actor: user,
        text: `Promoted the roll-out of ${op.service} (${op.environment}) to ${plan.toRevision} to 100 % now`,
      },
    );
    if (!promoted) return 'conflict';
    await this.#tell(op, promoted, 'promoted');
    const after = await this.get(op.id);
    return { kind: 'done', operation: after?.operation ?? op, run: after?.run ?? promoted };
  }

  async #movedNow(id: string): Promise<ControlOutcome> {
    const found = await this.get(id);
    if (!found) return { kind: 'not_found' };
    return { kind: 'moved', operation: found.operation, run: found.run };
  }
}

/** The roll-out's timers: kind → handler factory (src/runtime.ts merges them into the loop). */
export const ROLLOUT_TIMERS: Record<string, (deps: { rollouts: () => RolloutService }) => TimerHandler> = {
  [ROLLOUT_STEP_TIMER]: (deps) => (timer) => deps.rollouts().onStepTimer(timer),
  [ROLLOUT_MEASURE_TIMER]: (deps) => (timer) => deps.rollouts().onMeasureTimer(timer),
};
