import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { ServiceConfig } from '../../config/schema.ts';
import type { Logger } from '../../logger.ts';
import { closedError, PlatformError, type RetryOptions, withRetry } from '../errors.ts';
import type {
  ChangeResult,
  Platform,
  PlatformStatus,
  Revision,
  SettleResult,
  TrafficSteps,
  TrafficTarget,
} from '../platform.ts';
import { splitTrafficSteps } from '../traffic-steps.ts';
import { type CloudRunAuthClient, type CloudRunClients, createCloudRunClients } from './clients.ts';
import {
  type CallContext,
  type Coordinates,
  credentialError,
  TokenDeadlineError,
  targetName,
  toPlatformError,
} from './errors.ts';
import {
  describeCondition,
  type IRevisionTemplate,
  type IService,
  type ITrafficTarget,
  isFailed,
  isSucceeded,
  parseOperationResult,
  parseRevision,
  parseService,
  type RevisionView,
  type ServiceView,
  type TrafficEntry,
} from './resources.ts';
import { templateForChange, withEnv, withScaling } from './template.ts';

export interface CloudRunPlatformOptions {
  /** Credentials for the SDK; default Application Default Credentials. */
  authClient?: CloudRunAuthClient;
  /** Backoff for transient errors (429, 5xx, timeouts); tests pass `{ baseDelayMs: 1 }`. */
  retry?: RetryOptions;
  logger?: Logger;
  /** Source of RESTART_TIMESTAMP values. */
  clock?: Clock;
  /** Longest wait for one Cloud Run long-running operation; default 10 minutes. */
  operationTimeoutMs?: number;
  /** First delay between polls of a long-running operation (grows 1.5× up to 5 s); default 1 s. */
  operationPollMs?: number;
  /** Longest wait for an access token (credential lookup, refresh, metadata server); default 2 s. */
  tokenTimeoutMs?: number;
}

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' as const;
const BY_REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;
/** Retries belong to withRetry (bounded, with jitter); the SDK's own are switched off. */
const NO_SDK_RETRY = { retry: null };
const REVISION_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const RESTART_VAR = 'RESTART_TIMESTAMP';

interface Assessment {
  ready: boolean;
  /** Cloud Run has stopped working on it: waiting longer will not change the answer. */
  final: boolean;
  reason: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What AuthClient.getAccessToken() resolves to (GoogleAuth's resolves to the token itself). */
const tokenSchema = z.object({ token: z.string().nullish() });

function isOn(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function describeSplit(entries: { revision: string | undefined; percent: number }[]): string {
  return entries.map((e) => `${e.revision ?? 'latest'} ${e.percent}%`).join(', ') || 'no traffic';
}

/** Who serves traffic now: one entry per revision with its share, largest first. */
function servingEntries(service: ServiceView): { revision: string; percent: number }[] {
  const shares = new Map<string, number>();
  for (const entry of service.serving) {
    if (entry.percent > 0 && entry.revision) {
      shares.set(entry.revision, (shares.get(entry.revision) ?? 0) + entry.percent);
    }
  }
  return [...shares]
    .map(([revision, percent]) => ({ revision, percent }))
    .sort((a, b) => b.percent - a.percent);
}

function routesToLatest(service: ServiceView): boolean {
  return service.traffic.some((t) => t.latest && t.percent > 0);
}

/** Tagged targets keep their tag (and URL) at 0 % when the split is replaced. */
function keptTags(service: ServiceView): ITrafficTarget[] {
  return service.traffic
    .filter((t): t is TrafficEntry & { tag: string } => t.tag !== undefined)
    .map((t) =>
      t.latest
        ? { type: LATEST, tag: t.tag, percent: 0 }
        : { type: BY_REVISION, revision: t.revision ?? '', tag: t.tag, percent: 0 },
    );
}

/**
 * Ready means Cloud Run has finished (not reconciling, the latest generation observed), every
 * revision that receives traffic is ready, and, when traffic follows the latest revision, the
 * latest created revision is the latest ready one. A failed latest revision that receives no
 * traffic (after a rollback) does not make the service unready: what serves is healthy.
 *
 * A failed reconciliation is final at once: `reconciling` false and the terminal condition
 * CONDITION_FAILED, with `observedGeneration` left at the last serving generation (service.proto,
 * on `reconciling`). Only while Cloud Run is still reconciling, or has not yet reported on the
 * latest generation without having failed it, is the roll-out still in progress.
 */
function assess(service: ServiceView, revisions: Map<string, RevisionView>): Assessment {
  const rollingOut = {
    ready: false,
    final: false,
    reason: `Cloud Run is still rolling out ${service.latestCreatedRevision ?? 'the change'}`,
  };
  if (service.reconciling) return rollingOut;
  if (service.observedGeneration < service.generation) {
    if (!isFailed(service.terminal)) return rollingOut;
    const serving = describeSplit(servingEntries(service));
    return {
      ready: false,
      final: true,
      reason: `Cloud Run failed to roll out ${service.latestCreatedRevision ?? 'the last change'}: ${describeCondition(service.terminal)} (traffic stays as it was: ${serving})`,
    };
  }
  const entries = servingEntries(service);
  if (entries.length === 0) {
    return {
      ready: false,
      final: true,
      reason: describeCondition(service.terminal) ?? 'no revision serves traffic',
    };
  }
  for (const { revision, percent } of entries) {
    const ready = revisions.get(revision)?.ready;
    if (!isSucceeded(ready)) {
      const why = describeCondition(ready) ?? 'it has no Ready condition';
      return {
        ready: false,
        final: isFailed(ready),
        reason: `revision ${revision} serves ${percent}% of traffic but is not ready: ${why}`,
      };
    }
  }
  if (routesToLatest(service)) {
    if (service.latestCreatedRevision !== service.latestReadyRevision || isFailed(service.terminal)) {
      const why =
        describeCondition(service.terminal) ?? `revision ${service.latestCreatedRevision} is not ready`;
      return { ready: false, final: true, reason: why };
    }
  }
  return { ready: true, final: true, reason: `serving ${describeSplit(entries)}` };
}

class CloudRunPlatform implements Platform {
  readonly kind = 'cloudrun' as const;
  /** Gradual roll-outs over the traffic split between revisions. */
  readonly trafficSteps: TrafficSteps = splitTrafficSteps(this);
  readonly #config: ServiceConfig;
  readonly #coordinates: Coordinates;
  readonly #target: string;
  readonly #serviceName: string;
  readonly #clients: CloudRunClients;
  readonly #retry: RetryOptions;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  readonly #operationTimeoutMs: number;
  readonly #operationPollMs: number;
  readonly #tokenTimeoutMs: number;

  constructor(config: ServiceConfig, options: CloudRunPlatformOptions) {
    if (config.platform.kind !== 'cloudrun') {
      throw new PlatformError(
        'invalid',
        `service ${config.name} is on ${config.platform.kind}, not Cloud Run`,
      );
    }
    const { project, region, service, endpoint } = config.platform;
    this.#config = config;
    this.#coordinates = { project, region, service };
    this.#target = targetName(this.#coordinates);
    this.#serviceName = `projects/${project}/locations/${region}/services/${service}`;
    this.#clients = createCloudRunClients(endpoint, options.authClient);
    this.#retry = options.retry ?? {};
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#operationTimeoutMs = options.operationTimeoutMs ?? 600_000;
    this.#operationPollMs = options.operationPollMs ?? 1_000;
    this.#tokenTimeoutMs = options.tokenTimeoutMs ?? 2_000;
  }

  // ------------------------------------------------------------------ reads

  async status(): Promise<PlatformStatus> {
    const service = await this.#getService();
    const entries = servingEntries(service);
    const revisions = await this.#getRevisions(entries.map((e) => e.revision));
    const assessment = assess(service, revisions);
    const main = entries[0] ? revisions.get(entries[0].revision) : undefined;
    const status: PlatformStatus = {
      kind: this.kind,
      target: this.#target,
      revision: main?.id,
      image: main?.image,
      traffic: entries.map((e) => ({ revision: e.revision, percent: e.percent })),
      // Cloud Run autoscales: the API reports the floor it keeps warm, not a count of running instances.
      replicas: { desired: main?.scaling.min, ready: undefined },
      ready: assessment.ready,
      maintenance: isOn(main?.env.get(this.#config.maintenanceEnvVar)),
    };
    if (!assessment.ready) status.reason = assessment.reason;
    return status;
  }

  async history(limit = 10): Promise<Revision[]> {
    const [service, revisions] = await Promise.all([this.#getService(), this.#listRevisions()]);
    const serving = new Set(servingEntries(service).map((e) => e.revision));
    return revisions.slice(0, Math.max(0, limit)).map((r) => {
      const revision: Revision = {
        id: r.id,
        image: r.image,
        createdAt: r.createdAt,
        current: serving.has(r.id),
      };
      if (r.creator) revision.cause = `deployed by ${r.creator}`;
      return revision;
    });
  }

  async waitUntilSettled(options: { timeoutMs: number; pollMs?: number }): Promise<SettleResult> {
    const pollMs = options.pollMs ?? 2_000;
    const started = performance.now();
    for (;;) {
      const service = await this.#getService();
      const revisions = await this.#getRevisions(servingEntries(service).map((e) => e.revision));
      const assessment = assess(service, revisions);
      const waitedMs = Math.round(performance.now() - started);
      if (assessment.ready)
        return { settled: true, detail: `${this.#target} ${assessment.reason}`, waitedMs };
      if (assessment.final) return { settled: false, detail: assessment.reason, waitedMs };
      if (waitedMs + pollMs > options.timeoutMs) {
        return {
          settled: false,
          detail: `${this.#target} has not settled after ${waitedMs} ms: ${assessment.reason}`,
          waitedMs,
        };
      }
      await sleep(pollMs);
    }
  }

  // ------------------------------------------------------------------ traffic

  async rollback(options: { toRevision?: string } = {}): Promise<ChangeResult> {
    const service = await this.#getService();
    const entries = servingEntries(service);
    const from = entries[0]?.revision;
    const target = options.toRevision
      ? await this.#readyRevision(this.#revisionId(options.toRevision), 'roll back to')
      : await this.#previousReadyRevision(from);
    const fromText = from ?? 'nothing';
    if (entries.length === 1 && from === target.id) {
      return {
        action: 'rollback',
        from: fromText,
        to: target.id,
        summary: `${this.#config.name} already serves ${target.id} with all traffic: nothing to roll back`,
        changed: false,
      };
    }
    const traffic = [{ type: BY_REVISION, revision: target.id, percent: 100 }, ...keptTags(service)];
    await this.#updateTraffic(service, traffic, 'roll back traffic of');
    const summary = `rolled back ${this.#config.name} from ${fromText} to ${target.id} (image ${target.image ?? 'unknown'})`;
    this.#logger?.info(
      { service: this.#config.name, action: 'rollback', from: fromText, to: target.id },
      summary,
    );
    return { action: 'rollback', from: fromText, to: target.id, summary, changed: true };
  }

  async setTraffic(targets: TrafficTarget[]): Promise<ChangeResult> {
    this.#checkSplit(targets);
    const resolved = await Promise.all(
      targets.map(async (t) =>
        t.revision === 'latest'
          ? { type: LATEST, percent: t.percent }
          : {
              type: BY_REVISION,
              revision: (await this.#readyRevision(this.#revisionId(t.revision), 'send traffic to')).id,
              percent: t.percent,
            },
      ),
    );
    const service = await this.#getService();
    const from = describeSplit(servingEntries(service));
    const to = describeSplit(
      resolved.map((t) => ({ revision: 'revision' in t ? t.revision : 'latest', percent: t.percent })),
    );
    const desired = (entries: { revision: string | undefined; percent: number }[]) =>
      entries
        .filter((e) => e.percent > 0)
        .map((e) => `${e.revision}=${e.percent}`)
        .sort()
        .join(',');
    const spec = service.traffic.map((t) => ({
      revision: t.latest ? 'latest' : t.revision,
      percent: t.percent,
    }));
    const wanted = resolved.map((t) => ({
      revision: 'revision' in t ? t.revision : 'latest',
      percent: t.percent,
    }));
    if (desired(spec) === desired(wanted)) {
      const summary = `${this.#config.name} already splits traffic ${to}`;
      return { action: 'traffic', from, to, summary, changed: false };
    }
    await this.#updateTraffic(service, [...resolved, ...keptTags(service)], 'split traffic of');
    const summary = `moved traffic of ${this.#config.name} from ${from} to ${to}`;
    this.#logger?.info({ service: this.#config.name, action: 'traffic', from, to }, summary);
    return { action: 'traffic', from, to, summary, changed: true };
  }

  // ------------------------------------------------------------------ template changes

  async restart(): Promise<ChangeResult> {
    const stamp = this.#clock.now().toISOString();
    const change = await this.#changeServing('restart', (template) => withEnv(template, RESTART_VAR, stamp));
    const { from, to } = change;
    const summary = change.changed
      ? `restarted ${this.#config.name}: new revision ${to} (${RESTART_VAR}=${stamp}) replaced ${from}`
      : `${this.#config.name} was not restarted: Cloud Run created no new revision`;
    return this.#result('restart', from, to, summary, change.changed);
  }

  async setMaintenance(on: boolean): Promise<ChangeResult> {
    const name = this.#config.maintenanceEnvVar;
    const state = (v: boolean) => (v ? 'maintenance on' : 'maintenance off');
    const change = await this.#changeServing('switch maintenance mode of', (template, serving) =>
      isOn(serving.env.get(name)) === on ? undefined : withEnv(template, name, on ? 'true' : 'false'),
    );
    const mode = on ? 'on' : 'off';
    const summary = !change.edited
      ? `maintenance mode is already ${mode} for ${this.#config.name} (${name}=${on} on ${change.from})`
      : change.changed
        ? `turned maintenance mode ${mode} for ${this.#config.name}: ${name}=${on} on new revision ${change.to} (was ${change.from})`
        : `maintenance mode of ${this.#config.name} was not switched: Cloud Run created no new revision`;
    return this.#result('maintenance', state(change.edited ? !on : on), state(on), summary, change.changed);
  }

  /**
   * Cloud Run autoscales, so "scale to N" keeps N instances warm: minInstanceCount = N, and the
   * ceiling (maxInstanceCount) is raised to N when it is lower and otherwise left alone, so that
   * scaling during an incident never caps capacity. status().replicas.desired then reads N.
   */
  async scale(replicas: number): Promise<ChangeResult> {
    const { min, max } = this.#config.scaling;
    if (!Number.isInteger(replicas) || replicas < min || replicas > max) {
      throw new PlatformError(
        'invalid',
        `cannot scale ${this.#target} to ${replicas}: its configured range is ${min}–${max} instances (scaling in the config)`,
      );
    }
    const describe = (s: { min: number; max: number | undefined }) =>
      `min ${s.min}, max ${s.max ?? 'default'} instances`;
    let before = { min: 0, max: undefined as number | undefined };
    let after = before;
    const change = await this.#changeServing('scale', (template, serving) => {
      before = serving.scaling;
      after = { min: replicas, max: before.max === undefined ? undefined : Math.max(before.max, replicas) };
      if (before.min === after.min && before.max === after.max) return undefined;
      return withScaling(template, after.min, after.max);
    });
    const summary = !change.edited
      ? `${this.#config.name} already runs ${describe(before)}`
      : change.changed
        ? `scaled ${this.#config.name} from ${describe(before)} to ${describe(after)} (new revision ${change.to})`
        : `${this.#config.name} was not scaled: Cloud Run created no new revision`;
    return this.#result('scale', describe(before), describe(after), summary, change.changed);
  }

  #result(action: ChangeResult['action'], from: string, to: string, summary: string, changed: boolean) {
    if (changed) this.#logger?.info({ service: this.#config.name, action, from, to }, summary);
    return { action, from, to, summary, changed };
  }

  /**
   * Changes the configuration of the one revision that serves traffic: the full template is
   * written back with the edit and waited for. When traffic is pinned to a revision (after a
   * rollback) the new revision gets no traffic from the template write, so, once it is ready,
   * traffic is moved to it; if it fails, traffic stays where it was.
   */
  async #changeServing(
    verb: string,
    edit: (template: IRevisionTemplate, serving: RevisionView) => IRevisionTemplate | undefined,
  ): Promise<{ from: string; to: string; edited: boolean; changed: boolean }> {
    const service = await this.#getService();
    const entries = servingEntries(service);
    const [only, ...others] = entries;
    if (!only) {
      const why = describeCondition(service.terminal) ?? 'no revision serves traffic';
      throw new PlatformError(
        'conflict',
        `cannot ${verb} ${this.#target}: no revision serves traffic (${why})`,
      );
    }
    if (others.length > 0) {
      throw new PlatformError(
        'conflict',
        `cannot ${verb} ${this.#target} while traffic is split (${describeSplit(entries)}): finish the roll-out or roll back first`,
      );
    }
    const serving = await this.#getRevision(only.revision);
    const template = edit(templateForChange(service, serving), serving);
    if (!template) return { from: serving.id, to: serving.id, edited: false, changed: false };

    const write: IService = { ...service.raw, template, etag: service.etag ?? '' };
    const result = await this.#update(write, undefined, `${verb}`, `traffic stays on ${serving.id}`);
    const created = result.latestCreatedRevision;
    if (!created || created === service.latestCreatedRevision) {
      return { from: serving.id, to: serving.id, edited: true, changed: false };
    }
    if (!routesToLatest(service)) {
      const fresh = await this.#getService();
      const traffic = [{ type: BY_REVISION, revision: created, percent: 100 }, ...keptTags(fresh)];
      await this.#updateTraffic(fresh, traffic, `move traffic to ${created} of`);
    }
    return { from: serving.id, to: created, edited: true, changed: true };
  }

  // ------------------------------------------------------------------ Cloud Run calls

  /**
   * Gets an access token before the SDK is asked for anything, within tokenTimeoutMs. The SDK
   * looks credentials up itself on its first call, and when that fails it leaves a rejected promise
   * nobody handles (and keeps the failure for good); a refused refresh inside a call comes back
   * looking like a Cloud Run 403. Asked here first, the SDK only ever sees credentials that work
   * (cached by the auth client), and a failure is the bot's authentication problem, said so.
   */
  async #ensureToken(): Promise<void> {
    const auth = this.#clients.auth;
    const asked = Promise.resolve().then(() => auth.getAccessToken());
    // Whatever happens after the deadline is nobody's business, but must not go unhandled.
    asked.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new TokenDeadlineError(this.#tokenTimeoutMs)), this.#tokenTimeoutMs);
    });
    try {
      const answer = await Promise.race([asked, deadline]);
      const token = typeof answer === 'string' ? answer : tokenSchema.safeParse(answer).data?.token;
      if (!token) throw new Error('the credentials produced no access token');
    } catch (error) {
      const failure = credentialError(error, this.#config.name);
      this.#logger?.warn({ service: this.#config.name, code: failure.code }, failure.message);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  #closed = false;

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.#clients.services.close(), this.#clients.revisions.close()]);
  }

  async #call<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError(this.#target);
    return withRetry(async () => {
      await this.#ensureToken();
      try {
        return await fn();
      } catch (error) {
        throw toPlatformError(error, ctx, this.#coordinates);
      }
    }, this.#retry);
  }

  #getService(): Promise<ServiceView> {
    const ctx: CallContext = {
      action: 'read',
      permission: 'run.services.get',
      resource: { kind: 'service' },
    };
    return this.#call(ctx, async () => {
      const [service] = await this.#clients.services.getService({ name: this.#serviceName }, NO_SDK_RETRY);
      return parseService(service);
    });
  }

  #getRevision(id: string): Promise<RevisionView> {
    const ctx: CallContext = {
      action: `read revision ${id} of`,
      permission: 'run.revisions.get',
      resource: { kind: 'revision', id },
    };
    return this.#call(ctx, async () => {
      const name = `${this.#serviceName}/revisions/${id}`;
      const [revision] = await this.#clients.revisions.getRevision({ name }, NO_SDK_RETRY);
      return parseRevision(revision);
    });
  }

  async #getRevisions(ids: string[]): Promise<Map<string, RevisionView>> {
    const revisions = await Promise.all([...new Set(ids)].map((id) => this.#getRevision(id)));
    return new Map(revisions.map((r) => [r.id, r]));
  }

  /** Every revision of the service, newest first. */
  #listRevisions(): Promise<RevisionView[]> {
    const ctx: CallContext = {
      action: 'list the revisions of',
      permission: 'run.revisions.list',
      resource: { kind: 'service' },
    };
    return this.#call(ctx, async () => {
      const all: RevisionView[] = [];
      let pageToken = '';
      do {
        const [page, , response] = await this.#clients.revisions.listRevisions(
          { parent: this.#serviceName, pageSize: 100, pageToken },
          { ...NO_SDK_RETRY, autoPaginate: false },
        );
        all.push(...page.map(parseRevision));
        pageToken = response?.nextPageToken ?? '';
      } while (pageToken);
      return all.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    });
  }

  async #readyRevision(id: string, verb: string): Promise<RevisionView> {
    const revision = await this.#getRevision(id);
    if (!isSucceeded(revision.ready)) {
      const why = describeCondition(revision.ready) ?? 'it has no Ready condition';
      throw new PlatformError(
        'invalid',
        `cannot ${verb} revision ${id} of ${this.#target}: it is not ready (${why}); pick a ready one from /deploy history`,
      );
    }
    return revision;
  }

  /** The newest ready revision created before the one serving now. */
  async #previousReadyRevision(current: string | undefined): Promise<RevisionView> {
    const revisions = await this.#listRevisions();
    const cutoff = revisions.find((r) => r.id === current)?.createdAt;
    const previous = revisions.find(
      (r) =>
        r.id !== current &&
        isSucceeded(r.ready) &&
        (cutoff === undefined || (r.createdAt !== undefined && r.createdAt < cutoff)),
    );
    if (!previous) {
      throw new PlatformError(
        'not_found',
        `no ready revision of ${this.#target} older than ${current ?? 'the serving one'} to roll back to`,
      );
    }
    return previous;
  }

  #revisionId(input: string): string {
    const prefix = `${this.#serviceName}/revisions/`;
    if (input.includes('/') && !input.startsWith(prefix)) {
      throw new PlatformError('invalid', `revision ${input} does not belong to ${this.#target}`);
    }
    const id = input.startsWith(prefix) ? input.slice(prefix.length) : input.trim();
    if (!REVISION_ID.test(id)) {
      throw new PlatformError(
        'invalid',
        `"${input}" is not a Cloud Run revision id (like ${this.#config.name}-00042-xyz)`,
      );
    }
    return id;
  }

  #checkSplit(targets: TrafficTarget[]): void {
    const where = `traffic split for ${this.#target}`;
    if (targets.length === 0) throw new PlatformError('invalid', `the ${where} is empty`);
    for (const t of targets) {
      if (!Number.isInteger(t.percent) || t.percent < 0 || t.percent > 100) {
        throw new PlatformError(
          'invalid',
          `the ${where} gives ${t.revision} ${t.percent}%: use whole percents 0–100`,
        );
      }
    }
    const total = targets.reduce((sum, t) => sum + t.percent, 0);
    if (total !== 100) throw new PlatformError('invalid', `the ${where} adds up to ${total}%, not 100%`);
    const names = targets.map((t) => t.revision);
    if (new Set(names).size !== names.length) {
      throw new PlatformError('invalid', `the ${where} names a revision twice: ${names.join(', ')}`);
    }
  }

  async #updateTraffic(service: ServiceView, traffic: ITrafficTarget[], verb: string): Promise<void> {
    const write: IService = { name: this.#serviceName, traffic, etag: service.etag ?? '' };
    await this.#update(
      write,
      ['traffic'],
      verb,
      `traffic stays as it was (${describeSplit(servingEntries(service))})`,
    );
  }

  /** UpdateService, then waits on its long-running operation (bounded by operationTimeoutMs). */
  async #update(
    service: IService,
    updateMask: string[] | undefined,
    verb: string,
    onFailure: string,
  ): Promise<{ latestCreatedRevision: string | undefined }> {
    const updateCtx: CallContext = {
      action: verb,
      permission: 'run.services.update',
      resource: { kind: 'service' },
    };
    const request = updateMask ? { service, updateMask: { paths: updateMask } } : { service };
    const backoff = {
      initialRetryDelayMillis: this.#operationPollMs,
      retryDelayMultiplier: 1.5,
      maxRetryDelayMillis: Math.max(this.#operationPollMs, 5_000),
      totalTimeoutMillis: this.#operationTimeoutMs,
    };
    const [operation] = await this.#call(updateCtx, () =>
      this.#clients.services.updateService(request, { ...NO_SDK_RETRY, longrunning: backoff }),
    );
    const name = operation.name ?? '';
    const waitCtx: CallContext = {
      action: `finish the request to ${verb}`,
      permission: 'run.operations.get',
      resource: { kind: 'operation', name },
    };
    let abandoned = false;
    let current = operation;
    let first = true;
    const waiting = this.#call(waitCtx, async () => {
      if (abandoned) throw new PlatformError('invalid', `stopped waiting for operation ${name}`);
      // After a transient polling error, the operation is picked up again by name.
      if (!first) current = await this.#clients.services.checkUpdateServiceProgress(name);
      first = false;
      const [result] = await current.promise();
      return parseOperationResult(result);
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        current.removeAllListeners();
        // A poll already in flight still reports to the operation; its 'error' with no listener
        // would be thrown from the event loop and take the bot down.
        current.on('error', () => undefined);
        reject(
          new PlatformError(
            'timeout',
            `Cloud Run is still working on the request to ${verb} ${this.#target} after ${Math.round(this.#operationTimeoutMs / 1000)} s (operation ${name}): check /deploy status before trying again`,
          ),
        );
      }, this.#operationTimeoutMs);
    });
    try {
      return await Promise.race([waiting, deadline]);
    } catch (error) {
      // The operation itself failed (a new revision that never became ready, a refused route):
      // Cloud Run leaves traffic where it was, which is what a responder needs to know next.
      if (error instanceof PlatformError && error.code === 'invalid') {
        const said = error.message.replace(/[.…\s]+$/, '');
        throw new PlatformError('invalid', `${said}. ${onFailure[0]?.toUpperCase()}${onFailure.slice(1)}.`, {
          status: error.status,
          cause: error.cause,
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      waiting.catch(() => undefined);
    }
  }
}

/** A Platform for one Cloud Run service, on the official SDK (`@google-cloud/run` v2, REST transport). */
export function createCloudRunPlatform(
  service: ServiceConfig,
  options: CloudRunPlatformOptions = {},
): Platform {
  return new CloudRunPlatform(service, options);
}
