/**
 * /deploy operations as a state machine in Postgres:
 *   requested → running → verifying → succeeded | failed
 *   requested → cancelled | expired;  running | verifying → interrupted (a crash, the target not shown)
 * (the next issue's approvals slot in as requested → awaiting_approval → approved → running: `confirm`
 * already moves from either 'requested' or 'approved'). Every transition is a compare-and-set on the
 * expected previous state with its audit record in the same transaction, so a double click, a Slack
 * retry or two replicas move it once. One active operation per service and environment: a partial
 * unique index in Postgres, and a coordination lock (renewed while it runs) in front of it.
 * Knows nothing about Slack: what must be said goes through DeployNotifier.
 */
import { randomUUID } from 'node:crypto';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import type { Clock } from '../clock.ts';
import type { RunbookConfig, ServiceConfig } from '../config/schema.ts';
import type { Coordination, Lock } from '../coordination/coordination.ts';
import type { HealthService } from '../health/service.ts';
import type { Logger } from '../logger.ts';
import { PlatformError } from '../platform/errors.ts';
import type { ChangeResult, Platform } from '../platform/platform.ts';
import type { Db, Queryable } from '../store/db.ts';
import { isStoreError, SQLSTATE } from '../store/errors.ts';
import type { Freeze } from '../store/repositories/freezes.ts';
import { type Repositories, repositories } from '../store/repositories/index.ts';
import type { Operation, OperationPatch, OperationState } from '../store/repositories/operations.ts';
import type { JsonObject } from '../store/repositories/rows.ts';
import {
  type ApprovalRule,
  type Approver,
  type ApproverDirectory,
  configApprovers,
  groupsOf,
  groupsText,
  needsApproval,
  parseRule,
  progress,
  ruleFor,
  ruleJson,
  ruleText,
  withEmergency,
} from './approval-rules.ts';
import type { DeployEvent } from './events.ts';
import { deployTimelineEvent } from './incident-timeline.ts';
import { type DeployRequest, planOperation, showsTarget } from './plan.ts';
import { beginRollout } from './rollout.ts';
import { recordTransition } from './transition-record.ts';
import { windowState } from './windows.ts';

/** The durable start of an approved operation, should the replica of its last approval die first. */
export const DEPLOY_START_TIMER = 'deploy.start';
export const startTimerId = (operationId: string): string => `deploy-start:${operationId}`;
/** The timer is due this long after the approval: by then the approving replica has started it. */
const START_SAFETY_MS = 30_000;

/** How long a run's claim holds without renewal; a crashed runner's operation is resumed after it. */
export const DEPLOY_LEASE_MS = 30_000;
const RENEW_EVERY_MS = 10_000;
/** Between two rounds of health checks while verifying. */
export const VERIFY_INTERVAL_MS = 5_000;

/** What the domain must say; implemented in the Slack layer (src/slack/deploy/notifier.ts). */
export interface DeployNotifier {
  /** The operation moved (or its card was attached): update the card, post to #deployments, the incident. */
  changed(operation: Operation, event: DeployEvent): Promise<void>;
}

export type { DeployEvent };

export type FreezeOutcome =
  | { kind: 'frozen'; freeze: Freeze; replaced: Freeze | null }
  | { kind: 'unfrozen'; freeze: Freeze }
  | { kind: 'not_frozen' };

export interface DeployServiceOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: RunbookConfig;
  coordination: Coordination;
  health: HealthService;
  platformFor(service: ServiceConfig): Promise<Platform>;
  notifier: DeployNotifier;
  /** Approver groups' members; default: the user ids in `approvers` only. */
  approvers?: ApproverDirectory;
  /** How health checks wait between rounds (tests). */
  verifyIntervalMs?: number;
}

export interface RequestInput {
  service: ServiceConfig;
  request: DeployRequest;
  requestedBy: string;
  reason?: string | null;
  incidentNumber?: number | null;
  /** Stable for one Slack delivery: a retry returns the first operation. */
  idempotencyKey: string;
}

export type RequestOutcome =
  | { kind: 'created'; operation: Operation }
  | { kind: 'repeat'; operation: Operation }
  /** Another operation on the same service and environment is active. */
  | { kind: 'busy'; active: Operation | undefined };

export type DecisionOutcome =
  | { kind: 'done'; operation: Operation; run?: Promise<Operation> }
  | { kind: 'not_found' }
  | { kind: 'not_requester'; operation: Operation }
  /** It is not (anymore) in a state this decision applies to: someone or something moved it first. */
  | { kind: 'moved'; operation: Operation }
  | { kind: 'expired'; operation: Operation }
  /** The coordination lock is held: the operation is being started elsewhere right now. */
  | { kind: 'locked'; operation: Operation }
  /** A deploy window is closed or the environment frozen: not started (the card says so). */
  | { kind: 'blocked'; operation: Operation }
  /** The requester may not approve their own request. */
  | { kind: 'self_approval'; operation: Operation }
  /** The user is in none of the groups whose approval is needed. */
  | { kind: 'not_approver'; operation: Operation; groups: string[] }
  | { kind: 'already_decided'; operation: Operation }
  /** This approval would not count: what is still needed is from other groups. */
  | { kind: 'not_needed'; operation: Operation; missingGroups: string[] };

const lockName = (op: { service: string; environment: string }) => `deploy:${op.service}/${op.environment}`;

const DECIDABLE: readonly OperationState[] = ['requested', 'awaiting_approval', 'approved'];

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The operation changed between reading it and the transition (rolled back; answered "moved on"). */
class OperationMovedError extends Error {
  override name = 'OperationMovedError';
  constructor(id: string) {
    super(`operation ${id} changed meanwhile`);
  }
}

export class DeployService {
  readonly #o: DeployServiceOptions;
  readonly #worker = randomUUID().slice(0, 8);

  constructor(options: DeployServiceOptions) {
    this.#o = options;
  }

  get #repos() {
    return repositories(this.#o.db, this.#o.clock);
  }

  /**
   * One transition: compare-and-set from `from` to `to` with the patch, and its audit record, in one
   * transaction. Null (nothing written) when the operation was not in `from`.
   */
  async #move(
    op: Operation,
    from: readonly OperationState[],
    to: OperationState,
    event: DeployEvent,
    actor: string,
    patch: OperationPatch,
    details: JsonObject = {},
    guard: { leaseOwner?: string } = {},
    more: {
      /** More to write in the transition's transaction (a roll-out's run, an approval). */
      write?: (repos: Repositories, moved: Operation, tx: Queryable) => Promise<void>;
      note?: string;
      key?: string;
    } = {},
  ): Promise<Operation | null> {
    return this.#o.db.transaction(async (tx: Queryable) => {
      const repos = repositories(tx, this.#o.clock);
      const moved = await repos.operations.transition(op.id, from, to, patch, guard);
      if (!moved) return null;
      if (more.write) await more.write(repos, moved, tx);
      await this.#record(repos, op, moved, to, event, actor, details, more);
      return moved;
    });
  }

  /** What the transition writes with it (src/deploy/transition-record.ts), in the caller's transaction. */
  async #record(
    repos: Repositories,
    op: Operation,
    moved: Operation,
    to: OperationState,
    event: DeployEvent,
    actor: string,
    details: JsonObject,
    more: { note?: string; key?: string } = {},
  ): Promise<void> {
    await recordTransition(repos, this.#o.config, {
      op,
      moved,
      to,
      event,
      actor,
      at: this.#o.clock.now(),
      details,
      ...more,
    });
  }

  async #tell(op: Operation, event: DeployEvent): Promise<void> {
    try {
      await this.#o.notifier.changed(op, event);
    } catch (error) {
      this.#o.logger.warn({ err: error, operation: op.id, event }, 'could not tell about a deploy operation');
    }
  }

  /** Plans the change against the platform and records it as requested (with its audit row). */
  async request(input: RequestInput): Promise<RequestOutcome> {
    const { service } = input;
    const existing = await this.#repos.operations.findByIdempotencyKey(input.idempotencyKey);
    if (existing) return { kind: 'repeat', operation: existing };
    const active = await this.active(service);
    if (active) return { kind: 'busy', active };
    const platform = await this.#o.platformFor(service);
    const earlier = await this.#repos.operations.listRecent({
      service: service.name,
      environment: service.environment,
      limit: 100,
    });
    const params = await planOperation(service, platform, input.request, earlier, this.#o.config.deploy);
    const gate = await this.#gate({
      environment: service.environment,
      incidentNumber: input.incidentNumber ?? null,
      emergencyReason: null,
    });
    const expiresAt = addMilliseconds(this.#o.clock.now(), this.#o.config.deploy.confirmTimeout);
    try {
      return await this.#o.db.transaction(async (tx) => {
        const repos = repositories(tx, this.#o.clock);
        const { operation, created } = await repos.operations.create({
          kind: input.request.kind,
          service: service.name,
          environment: service.environment,
          requestedBy: input.requestedBy,
          idempotencyKey: input.idempotencyKey,
          params,
          reason: input.reason ?? null,
          incidentNumber: input.incidentNumber ?? null,
          expiresAt,
          gate,
        });
        if (!created) return { kind: 'repeat', operation } as const;
        const at = this.#o.clock.now();
        await repos.audit.append({
          at,
          actor: input.requestedBy,
          action: `deploy.${operation.kind}`,
          outcome: 'requested',
          service: service.name,
          environment: service.environment,
          incidentNumber: operation.incidentNumber,
          operationId: operation.id,
          details: { to: 'requested', reason: operation.reason, params, gate },
        });
        const onTimeline = deployTimelineEvent(operation, 'requested', input.requestedBy, at);
        if (onTimeline) await repos.timeline.add(onTimeline);
        return { kind: 'created', operation } as const;
      });
    } catch (error) {
      if (isStoreError(error, SQLSTATE.uniqueViolation) && error.constraint === 'operations_one_active_idx') {
        return { kind: 'busy', active: await this.active(service) };
      }
      throw error;
    }
  }

  /** The active operation on the service and environment, if any. */
  async active(service: { name: string; environment: string }): Promise<Operation | undefined> {
    const [first] = await this.#repos.operations.listActive({
      service: service.name,
      environment: service.environment,
    });
    return first;
  }

  get(id: string): Promise<Operation | null> {
    return this.#repos.operations.get(id);
  }

  /** The card was posted: remember where (no state change). */
  async attachCard(op: Operation, channelId: string, ts: string): Promise<Operation> {
    const updated = await this.#repos.operations.patch(op.id, [op.state], {
      cardChannelId: channelId,
      cardTs: ts,
    });
    return updated ?? op;
  }

  /** The #deployments message was posted: remember where (no state change). */
  async attachNotice(op: Operation, channelId: string, ts: string): Promise<Operation> {
    const current = await this.get(op.id);
    if (!current) return op;
    const updated = await this.#repos.operations.patch(op.id, [current.state], {
      noticeChannelId: channelId,
      noticeTs: ts,
    });
    return updated ?? current;
  }

  /**
   * Only the requester. Checks the deploy window and freezes; then asks for approval when the rule
   * needs any (awaiting_approval), else starts the run (returned as `run`, for the caller to keep in
   * flight). From 'approved' (approved while the window was closed): starts it if it may start now.
   */
  async confirm(id: string, user: string): Promise<DecisionOutcome> {
    const op = await this.get(id);
    if (!op) return { kind: 'not_found' };
    if (op.requestedBy !== user) return { kind: 'not_requester', operation: op };
    if (op.state !== 'requested' && op.state !== 'approved') return { kind: 'moved', operation: op };
    if (op.expiresAt && op.expiresAt <= this.#o.clock.now()) {
      const expired = await this.expire(op.id);
      return { kind: 'expired', operation: expired ?? op };
    }
    const gate = await this.#gate(op);
    if (gate.open !== true) return this.#block(op, user, gate);
    if (op.state === 'requested') {
      const rule = await this.#ruleOf(op);
      if (needsApproval(rule)) {
        const expireAfter = this.#o.config.approvals[op.environment]?.expireAfter ?? 3_600_000;
        const waiting = await this.#move(
          op,
          ['requested'],
          'awaiting_approval',
          'awaiting_approval',
          user,
          {
            confirmedBy: user,
            approvalRule: ruleJson(rule),
            gate,
            expiresAt: addMilliseconds(this.#o.clock.now(), expireAfter),
          },
          { rule: ruleJson(rule) },
          {},
          {
            note: `needs ${ruleText(rule)}`,
            // An emergency requested since the rule was computed needs the emergency group too:
            // rolled back, and the click is answered "moved on".
            async write(_repos, moved) {
              if (moved.emergencyReason !== op.emergencyReason) throw new OperationMovedError(op.id);
            },
          },
        ).catch((error: unknown) => {
          if (error instanceof OperationMovedError) return null;
          throw error;
        });
        if (!waiting) return { kind: 'moved', operation: (await this.get(id)) ?? op };
        await this.#tell(waiting, 'awaiting_approval');
        return { kind: 'done', operation: waiting };
      }
    }
    return this.#start(op, user, gate);
  }

  /** Not started: the window is closed or the environment frozen (recorded, the card says so). */
  async #block(op: Operation, actor: string, gate: JsonObject): Promise<DecisionOutcome> {
    const blocked = await this.#move(
      op,
      [op.state],
      op.state,
      'blocked',
      actor,
      { gate },
      { gate },
      {},
      {
        note: gateText(gate),
        key: String(this.#o.clock.now().getTime()),
      },
    );
    if (!blocked) return { kind: 'moved', operation: (await this.get(op.id)) ?? op };
    await this.#tell(blocked, 'blocked');
    return { kind: 'blocked', operation: blocked };
  }

  async #start(op: Operation, actor: string, gate: JsonObject): Promise<DecisionOutcome> {
    let lock: Lock | null = null;
    try {
      lock = await this.#o.coordination.acquireLock(lockName(op), DEPLOY_LEASE_MS);
      // Held: a confirm of this operation on another replica right now (the compare-and-set below
      // lets one through), or a lock a crashed runner left behind (it must not swallow this click).
      if (!lock) this.#o.logger.info({ operation: op.id }, 'deploy lock held; relying on Postgres');
    } catch (error) {
      // Postgres guards (the compare-and-set below, the unique index); Redis only accelerates.
      this.#o.logger.warn({ err: error, operation: op.id }, 'deploy lock unavailable; relying on Postgres');
    }
    const owner = `${this.#worker}:${randomUUID().slice(0, 8)}`;
    const now = this.#o.clock.now();
    // A roll-out has no runner: its durable timers drive it (src/deploy/rollout.ts), from this transaction on.
    const rollout = op.kind === 'rollout';
    const running = await this.#move(
      op,
      ['requested', 'approved'],
      'running',
      'started',
      actor,
      {
        confirmedBy: op.confirmedBy ?? actor,
        startedAt: now,
        ...(rollout ? {} : { leaseOwner: owner, leaseUntil: addMilliseconds(now, DEPLOY_LEASE_MS) }),
        gate,
      },
      {},
      {},
      rollout ? { write: (_repos, moved, tx) => beginRollout(tx, this.#o.clock, moved) } : {},
    );
    if (!running) {
      await lock?.release().catch(() => false);
      const current = (await this.get(op.id)) ?? op;
      return { kind: 'moved', operation: current };
    }
    await this.#tell(running, 'started');
    if (rollout) {
      await lock?.release().catch(() => false);
      return { kind: 'done', operation: running };
    }
    const run = this.#run(running, owner, lock, 'execute');
    return { kind: 'done', operation: running, run };
  }

  /** The rule the operation is asked under: the environment's (or its duringIncident), plus an emergency's group. */
  async #ruleOf(
    op: Pick<Operation, 'environment' | 'incidentNumber' | 'emergencyReason'>,
  ): Promise<ApprovalRule> {
    const rule = ruleFor(this.#o.config, op.environment, await this.#exemptIncident(op.incidentNumber));
    return op.emergencyReason ? withEmergency(rule, this.#o.config.deploy.emergencyApproverGroup) : rule;
  }

  /** True when the incident is open and of a severity exempt from windows and freezes. */
  async #exemptIncident(incidentNumber: number | null): Promise<boolean> {
    if (incidentNumber === null) return false;
    const incident = await this.#repos.incidents.get(incidentNumber);
    return (
      incident !== null &&
      incident.status !== 'resolved' &&
      this.#o.config.deploy.incidentExemption.includes(incident.severity)
    );
  }

  /**
   * May a change in this environment start now: the deploy window and the freeze, except for an
   * emergency or an operation for an exempt incident. What was found is kept on the operation.
   */
  async #gate(
    op: Pick<Operation, 'environment' | 'incidentNumber' | 'emergencyReason'>,
  ): Promise<JsonObject> {
    const now = this.#o.clock.now();
    const window = windowState(this.#o.config.deploy, op.environment, now);
    const freeze = await this.#repos.freezes.findActive(op.environment, now);
    const closed: JsonObject = {};
    if (!window.open) {
      closed.window = {
        why: window.why,
        nextOpen: window.nextOpen?.toISOString() ?? null,
        windows: window.windows,
        ...(window.holiday ? { holiday: window.holiday } : {}),
      };
    }
    if (freeze) {
      closed.freeze = {
        reason: freeze.reason,
        by: freeze.frozenBy,
        until: freeze.until?.toISOString() ?? null,
      };
    }
    const at = now.toISOString();
    if (!closed.window && !closed.freeze) return { open: true, at };
    if (op.emergencyReason) return { open: true, at, passedAs: 'emergency', ...closed };
    if (await this.#exemptIncident(op.incidentNumber))
      return { open: true, at, passedAs: 'incident', ...closed };
    return { open: false, at, ...closed };
  }

  /**
   * The `deploy.start` timer of a fully approved operation: starts it if it is still approved and may
   * start now (the replica of the last approval died before starting it). A closed window or a freeze:
   * it waits on its card for Start, as any approval landing outside the window.
   */
  async startIfApproved(id: string, actor: string): Promise<Operation | null> {
    const op = await this.get(id);
    if (op?.state !== 'approved') return null;
    const gate = await this.#gate(op);
    if (gate.open !== true) return null;
    const outcome = await this.#start(op, actor, gate);
    if (outcome.kind !== 'done') return null;
    return outcome.run ? await outcome.run : outcome.operation;
  }

  /**
   * An approval: not the requester (unless the rule allows), someone in a group still needed. The
   * last one moves it to approved and starts it, when the window is open and nothing frozen.
   */
  async approve(id: string, user: string): Promise<DecisionOutcome> {
    const checked = await this.#decidable(id, user);
    if (checked.kind !== 'ok') return checked.outcome;
    const { op, rule, groups, approvals } = checked;
    if (approvals.some((a) => a.approver === user)) return { kind: 'already_decided', operation: op };
    const before = progress(rule, approvals);
    const after = progress(rule, [...approvals, { approver: user, groups }]);
    if (after.missing >= before.missing && after.missingGroups.length >= before.missingGroups.length) {
      return { kind: 'not_needed', operation: op, missingGroups: before.missingGroups };
    }
    const outcome = await this.#o.db.transaction(async (tx) => {
      const repos = repositories(tx, this.#o.clock);
      // Locks the row for this transaction: concurrent approvals are counted one after the other.
      const locked = await repos.operations.transition(op.id, ['awaiting_approval'], 'awaiting_approval');
      if (!locked) return null;
      // The rule changed since it was read (an emergency request added the CTO): counted against
      // the old one, it could pass without them. Nothing is recorded; the click is answered "moved on".
      if (JSON.stringify(locked.approvalRule) !== JSON.stringify(op.approvalRule)) return null;
      const { created } = await repos.approvals.record({
        operationId: op.id,
        approver: user,
        group: groupsText(groups),
        decision: 'approved',
      });
      if (!created) return 'already' as const;
      const all = (await repos.approvals.listFor(op.id))
        .filter((a) => a.decision === 'approved')
        .map((a): Approver => ({ approver: a.approver, groups: groupsOf(a.group) }));
      const now = progress(rule, all);
      const moved = now.satisfied
        ? await repos.operations.transition(op.id, ['awaiting_approval'], 'approved')
        : locked;
      if (!moved) return null;
      // Approved: it starts right after this commit (below); should this replica die first, the
      // durable `deploy.start` timer starts it (when it still may), on whichever replica claims it.
      if (now.satisfied) {
        await repos.timers.schedule({
          id: startTimerId(op.id),
          kind: DEPLOY_START_TIMER,
          subject: `operation:${op.id}`,
          payload: { operation: op.id, approvedBy: user },
          dueAt: addMilliseconds(this.#o.clock.now(), START_SAFETY_MS),
        });
      }
      const count = `${now.approvers.length} of ${Math.max(rule.required, rule.fromGroups.length)}`;
      await this.#record(
        repos,
        op,
        moved,
        moved.state,
        'approved',
        user,
        {
          approver: user,
          groups,
          approvers: now.approvers,
          missingGroups: now.missingGroups,
          satisfied: now.satisfied,
        },
        { note: `${count}${groups.length > 0 ? `, as ${groups.join(' and ')}` : ''}`, key: user },
      );
      return { moved, satisfied: now.satisfied };
    });
    if (outcome === null) return { kind: 'moved', operation: (await this.get(id)) ?? op };
    if (outcome === 'already') return { kind: 'already_decided', operation: op };
    await this.#tell(outcome.moved, 'approved');
    if (!outcome.satisfied) return { kind: 'done', operation: outcome.moved };
    // The last approval: it starts by itself, if it may start now.
    const gate = await this.#gate(outcome.moved);
    if (gate.open !== true) {
      const blocked = await this.#block(outcome.moved, user, gate);
      return { kind: 'done', operation: blocked.kind === 'blocked' ? blocked.operation : outcome.moved };
    }
    return this.#start(outcome.moved, user, gate);
  }

  /** A rejection, with its reason: by someone who could approve; nothing is changed. */
  async reject(id: string, user: string, reason: string): Promise<DecisionOutcome> {
    const checked = await this.#decidable(id, user);
    if (checked.kind !== 'ok') return checked.outcome;
    const { op, groups } = checked;
    const rejected = await this.#move(
      op,
      ['awaiting_approval'],
      'rejected',
      'rejected',
      user,
      { finishedAt: this.#o.clock.now(), error: `rejected by ${user}: ${reason}` },
      { approver: user, groups, rejectionReason: reason },
      {},
      {
        note: reason,
        async write(repos) {
          await repos.approvals.record({
            operationId: op.id,
            approver: user,
            group: groupsText(groups),
            decision: 'rejected',
            reason,
          });
        },
      },
    );
    if (!rejected) return { kind: 'moved', operation: (await this.get(id)) ?? op };
    await this.#tell(rejected, 'rejected');
    return { kind: 'done', operation: rejected };
  }

  /**
   * Who may decide (approve or reject) now: the operation awaits approval and has not expired, the
   * user is not the requester (unless allowed) and is in one of the rule's groups (any, when none).
   */
  async mayDecide(id: string, user: string): Promise<DecisionOutcome | null> {
    const checked = await this.#decidable(id, user);
    return checked.kind === 'ok' ? null : checked.outcome;
  }

  async #decidable(
    id: string,
    user: string,
  ): Promise<
    | { kind: 'ok'; op: Operation; rule: ApprovalRule; groups: string[]; approvals: Approver[] }
    | { kind: 'refused'; outcome: DecisionOutcome }
  > {
    const refuse = (outcome: DecisionOutcome) => ({ kind: 'refused' as const, outcome });
    const op = await this.get(id);
    if (!op) return refuse({ kind: 'not_found' });
    if (op.state !== 'awaiting_approval') return refuse({ kind: 'moved', operation: op });
    if (op.expiresAt && op.expiresAt <= this.#o.clock.now()) {
      const expired = await this.expire(op.id);
      return refuse({ kind: 'expired', operation: expired ?? op });
    }
    const rule = parseRule(op.approvalRule) ?? (await this.#ruleOf(op));
    if (op.requestedBy === user && !rule.allowSelfApproval)
      return refuse({ kind: 'self_approval', operation: op });
    const directory = this.#o.approvers ?? configApprovers(this.#o.config);
    const groups = rule.fromGroups.length > 0 ? await directory.groupsOf(user, rule.fromGroups) : [];
    const approvals = (await this.#repos.approvals.listFor(op.id))
      .filter((a) => a.decision === 'approved')
      .map((a): Approver => ({ approver: a.approver, groups: groupsOf(a.group) }));
    // Outside every group: only while the rule still needs more people than its missing groups
    // (staging's one approver plus the CTO of an emergency: anyone allowed may be the one).
    const now = progress(rule, approvals);
    if (rule.fromGroups.length > 0 && groups.length === 0 && now.missing <= now.missingGroups.length)
      return refuse({ kind: 'not_approver', operation: op, groups: rule.fromGroups });
    return { kind: 'ok', op, rule, groups, approvals };
  }

  /**
   * The requester asks for it as an emergency (a reason required): it passes windows and freezes,
   * and the emergency approver group must approve in addition. Approved but blocked: it waits for
   * that group's approval now.
   */
  async requestEmergency(id: string, user: string, reason: string): Promise<DecisionOutcome> {
    const op = await this.get(id);
    if (!op) return { kind: 'not_found' };
    if (op.requestedBy !== user) return { kind: 'not_requester', operation: op };
    if (!DECIDABLE.includes(op.state)) return { kind: 'moved', operation: op };
    if (op.expiresAt && op.expiresAt <= this.#o.clock.now()) {
      const expired = await this.expire(op.id);
      return { kind: 'expired', operation: expired ?? op };
    }
    const group = this.#o.config.deploy.emergencyApproverGroup;
    const current = parseRule(op.approvalRule);
    const rule = current ? withEmergency(current, group) : null;
    const to: OperationState = op.state === 'approved' ? 'awaiting_approval' : op.state;
    const gate = await this.#gate({ ...op, emergencyReason: reason });
    const moved = await this.#move(
      op,
      [op.state],
      to,
      'emergency',
      user,
      {
        emergencyReason: reason,
        emergencyBy: user,
        gate,
        ...(rule ? { approvalRule: ruleJson(rule) } : {}),
      },
      { emergency: true, emergencyReason: reason, ...(rule ? { rule: ruleJson(rule) } : {}) },
      {},
      { note: reason },
    );
    if (!moved) return { kind: 'moved', operation: (await this.get(id)) ?? op };
    await this.#tell(moved, 'emergency');
    return { kind: 'done', operation: moved };
  }

  /** `/deploy freeze`: replaces the environment's freeze, if any; audited. */
  async freeze(input: {
    environment: string;
    actor: string;
    reason: string;
    until: Date | null;
  }): Promise<FreezeOutcome> {
    return this.#o.db.transaction(async (tx) => {
      // One freeze change per environment at a time (two replicas, two commands): serialized here.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`deploy-freeze:${input.environment}`]);
      const repos = repositories(tx, this.#o.clock);
      const before = await repos.freezes.findActive(input.environment);
      await repos.freezes.lift(input.environment, input.actor);
      const freeze = await repos.freezes.create({
        environment: input.environment,
        reason: input.reason,
        frozenBy: input.actor,
        until: input.until,
      });
      await repos.audit.append({
        actor: input.actor,
        action: 'deploy.freeze',
        outcome: 'frozen',
        environment: input.environment,
        details: {
          reason: input.reason,
          until: input.until?.toISOString() ?? null,
          replaced: before ? before.id : null,
        },
      });
      return { kind: 'frozen', freeze, replaced: before };
    });
  }

  /** `/deploy unfreeze`: lifts the freeze in force; audited. */
  async unfreeze(input: { environment: string; actor: string }): Promise<FreezeOutcome> {
    return this.#o.db.transaction(async (tx) => {
      // One freeze change per environment at a time (two replicas, two commands): serialized here.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`deploy-freeze:${input.environment}`]);
      const repos = repositories(tx, this.#o.clock);
      const active = await repos.freezes.findActive(input.environment);
      if (!active) return { kind: 'not_frozen' } as const;
      const lifted = await repos.freezes.lift(input.environment, input.actor);
      if (!lifted) return { kind: 'not_frozen' } as const;
      await repos.audit.append({
        actor: input.actor,
        action: 'deploy.freeze',
        outcome: 'unfrozen',
        environment: input.environment,
        details: {
          reason: active.reason,
          frozenBy: active.frozenBy,
          frozenAt: active.frozenAt.toISOString(),
        },
      });
      return { kind: 'unfrozen', freeze: lifted };
    });
  }

  /** Only the requester, only while unconfirmed. */
  async cancel(id: string, user: string): Promise<DecisionOutcome> {
    const op = await this.get(id);
    if (!op) return { kind: 'not_found' };
    if (op.requestedBy !== user) return { kind: 'not_requester', operation: op };
    const cancelled = await this.#move(
      op,
      ['requested', 'awaiting_approval', 'approved'],
      'cancelled',
      'cancelled',
      user,
      {
        finishedAt: this.#o.clock.now(),
      },
    );
    if (!cancelled) return { kind: 'moved', operation: (await this.get(id)) ?? op };
    await this.#tell(cancelled, 'cancelled');
    return { kind: 'done', operation: cancelled };
  }

  /** An unconfirmed card past its expiry; null when it was confirmed, cancelled or is not due. */
  async expire(id: string): Promise<Operation | null> {
    const op = await this.get(id);
    if (!op?.expiresAt || op.expiresAt > this.#o.clock.now()) return null;
    const expired = await this.#move(
      op,
      ['requested', 'awaiting_approval', 'approved'],
      'expired',
      'expired',
      'bot',
      {
        finishedAt: this.#o.clock.now(),
      },
    );
    if (expired) await this.#tell(expired, 'expired');
    return expired;
  }

  /** Expires every card past its time (a sweep: at start-up and periodically). */
  async expireDue(): Promise<number> {
    const due = await this.#repos.operations.listExpired(this.#o.clock.now());
    let count = 0;
    for (const op of due) if (await this.expire(op.id)) count++;
    return count;
  }

  /**
   * Operations found running or verifying whose runner is gone (a crash, a kill): when the platform
   * already shows the target, verification resumes; otherwise they are marked interrupted, and
   * nothing is re-run blindly. Returns the runs resumed here.
   */
  async resumeOrphaned(): Promise<Promise<Operation>[]> {
    const orphaned = await this.#repos.operations.listOrphaned(this.#o.clock.now());
    const runs: Promise<Operation>[] = [];
    for (const found of orphaned) {
      const owner = `${this.#worker}:${randomUUID().slice(0, 8)}`;
      const claimed = await this.#repos.operations.claimLease(
        found.id,
        owner,
        addMilliseconds(this.#o.clock.now(), DEPLOY_LEASE_MS),
      );
      if (!claimed) continue;
      let lock: Lock | null = null;
      try {
        lock = await this.#o.coordination.acquireLock(lockName(claimed), DEPLOY_LEASE_MS);
      } catch (error) {
        this.#o.logger.warn(
          { err: error, operation: claimed.id },
          'deploy lock unavailable; relying on Postgres',
        );
      }
      runs.push(this.#run(claimed, owner, lock, 'resume'));
    }
    return runs;
  }

  #service(op: Operation): ServiceConfig | undefined {
    return this.#o.config.services.find((s) => s.name === op.service && s.environment === op.environment);
  }

  async #run(
    op: Operation,
    owner: string,
    lock: Lock | null,
    mode: 'execute' | 'resume',
  ): Promise<Operation> {
    const renew = setInterval(() => {
      const until = addMilliseconds(this.#o.clock.now(), DEPLOY_LEASE_MS);
      this.#repos.operations
        .renewLease(op.id, owner, until)
        .catch((error: unknown) =>
          this.#o.logger.warn({ err: error, operation: op.id }, 'lease renewal failed'),
        );
      lock?.extend(DEPLOY_LEASE_MS).catch(() => false);
    }, RENEW_EVERY_MS);
    renew.unref();
    try {
      return await this.#steps(op, owner, mode);
    } catch (error) {
      this.#o.logger.error({ err: error, operation: op.id }, 'deploy operation failed unexpectedly');
      const failed = await this.#finish(op, owner, 'failed', { error: errorText(error) }).catch(() => null);
      return failed ?? op;
    } finally {
      clearInterval(renew);
      await lock?.release().catch(() => false);
    }
  }

  async #finish(
    op: Operation,
    owner: string,
    state: 'succeeded' | 'failed' | 'interrupted',
    outcome: { error?: string; result?: JsonObject },
  ): Promise<Operation | null> {
    const current = (await this.get(op.id)) ?? op;
    const result = { ...(current.result ?? {}), ...(outcome.result ?? {}) };
    const finished = await this.#move(
      current,
      ['running', 'verifying'],
      state,
      state,
      'bot',
      {
        result,
        finishedAt: this.#o.clock.now(),
        leaseUntil: null,
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      },
      {
        durationMs: current.startedAt
          ? differenceInMilliseconds(this.#o.clock.now(), current.startedAt)
          : null,
      },
      { leaseOwner: owner },
    );
    if (finished) await this.#tell(finished, state);
    return finished;
  }

  async #steps(op: Operation, owner: string, mode: 'execute' | 'resume'): Promise<Operation> {
    const service = this.#service(op);
    if (!service) {
      return (
        (await this.#finish(op, owner, 'failed', {
          error: `${op.service} (${op.environment}) is no longer configured`,
        })) ?? op
      );
    }
    const platform = await this.#o.platformFor(service);
    let current = op;
    if (mode === 'resume') {
      const status = await platform.status().catch(() => undefined);
      const shown = status ? showsTarget(op.kind, op.params, status) : undefined;
      if (shown !== true) {
        const why = status
          ? 'the bot stopped while it ran, and the platform does not show the target: nothing was re-run'
          : 'the bot stopped while it ran, and the platform could not be read: nothing was re-run';
        return (await this.#finish(op, owner, 'interrupted', { error: why })) ?? op;
      }
      if (op.state === 'verifying') return this.#verify(op, owner, service, platform);
    } else {
      let change: ChangeResult | undefined;
      try {
        change = await this.#execute(platform, op);
      } catch (error) {
        // A conflict or a transient error after a call that may have happened: the platform says.
        const ambiguous = error instanceof PlatformError && (error.transient || error.code === 'conflict');
        const status = ambiguous ? await platform.status().catch(() => undefined) : undefined;
        if (!status || showsTarget(op.kind, op.params, status) !== true) {
          return (await this.#finish(op, owner, 'failed', { error: errorText(error) })) ?? op;
        }
        change = undefined;
      }
      const recorded = await this.#repos.operations.patch(op.id, ['running'], {
        result: {
          platformAnswer:
            change?.summary ?? 'the platform already showed the target after an ambiguous error',
          changed: change?.changed ?? true,
        },
      });
      current = recorded ?? current;
    }
    const settleMs = this.#o.config.deploy.settleTimeout[service.platform.kind];
    const settled = await platform.waitUntilSettled({ timeoutMs: settleMs, pollMs: 500 });
    if (!settled.settled) {
      return (
        (await this.#finish(current, owner, 'failed', {
          error: `did not settle: ${settled.detail}`,
          result: { settle: settled.detail },
        })) ?? current
      );
    }
    const verifying = await this.#move(
      current,
      ['running'],
      'verifying',
      'verifying',
      'bot',
      { result: { ...(current.result ?? {}), settle: settled.detail, settledMs: settled.waitedMs } },
      { settled: settled.detail },
      { leaseOwner: owner },
    );
    if (!verifying) return (await this.get(op.id)) ?? current;
    await this.#tell(verifying, 'verifying');
    return this.#verify(verifying, owner, service, platform);
  }

  async #execute(platform: Platform, op: Operation): Promise<ChangeResult> {
    const p = op.params;
    switch (op.kind) {
      case 'rollback':
        return platform.rollback({ toRevision: String(p.toRevision) });
      case 'restart':
        return platform.restart();
      case 'scale':
        return platform.scale(Number(p.toReplicas));
      case 'maintenance':
        return platform.setMaintenance(p.toMaintenance === true);
      case 'traffic': {
        if (!platform.setTraffic)
          throw new PlatformError('unsupported', 'this platform has no traffic split');
        const targets = (Array.isArray(p.toTraffic) ? p.toTraffic : []) as {
          revision: string;
          percent: number;
        }[];
        return platform.setTraffic(targets);
      }
      case 'rollout':
        // Driven by durable timers (src/deploy/rollout.ts), never by a run of its own.
        throw new PlatformError('unsupported', 'a roll-out is run by its timers');
    }
  }

  async #verify(
    op: Operation,
    owner: string,
    service: ServiceConfig,
    platform: Platform,
  ): Promise<Operation> {
    const verifyMs = this.#o.config.deploy.verifyTimeout;
    const failedChecks: string[] = [];
    let healthNote = 'no health checks configured';
    if (service.healthChecks.length > 0) {
      const watched = await this.#o.health.watch(service.name, {
        environment: service.environment,
        intervalMs: this.#o.verifyIntervalMs ?? VERIFY_INTERVAL_MS,
        maxDurationMs: verifyMs,
      });
      if (watched.healthy) {
        healthNote = `health checks healthy (${watched.report.results.length})`;
      } else {
        for (const r of watched.report.results) {
          if (r.status !== 'healthy')
            failedChecks.push(`${r.name}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
        }
        healthNote = `health checks not healthy after ${Math.round(watched.elapsedMs / 1000)} s`;
      }
    }
    const status = await platform.status();
    if (!status.ready) failedChecks.push(`platform: not ready${status.reason ? ` (${status.reason})` : ''}`);
    const result: JsonObject = {
      revisionAfter: status.revision ?? null,
      imageAfter: status.image ?? null,
      health: healthNote,
      failedChecks,
    };
    const state = failedChecks.length === 0 ? 'succeeded' : 'failed';
    const finished = await this.#finish(op, owner, state, {
      result,
      ...(state === 'failed' ? { error: `verification failed: ${failedChecks.join('; ')}` } : {}),
    });
    return finished ?? op;
  }
}

/** Why a gate is closed, in words (for the audit and the timeline). */
export function gateText(gate: JsonObject): string {
  const parts: string[] = [];
  const window = gate.window as { why?: string; holiday?: string } | undefined;
  if (window)
    parts.push(
      window.why === 'holiday' ? `a holiday (${window.holiday ?? ''})` : 'outside the deploy window',
    );
  const freeze = gate.freeze as { reason?: string } | undefined;
  if (freeze) parts.push(`frozen: ${freeze.reason ?? ''}`);
  return parts.join('; ');
}
