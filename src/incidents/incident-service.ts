/**
 * The incident response as a Slack-free domain service: declare, post updates, change severity,
 * assign roles, resolve and reopen, notes, pinned messages and health checks on the timeline. Each
 * state change is one method: one transaction over the records (src/incidents/ports.ts) that records
 * its timeline event (UTC time and actor), returning an outcome. Built once, in src/runtime.ts.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import type { Clock } from '../clock.ts';
import type { RunbookConfig, SeverityConfig } from '../config/schema.ts';
import { summarizeReport } from '../health/summary.ts';
import type { HealthStatus } from '../health/types.ts';
import type { Logger } from '../logger.ts';
import { incidentSubject } from '../timers/timers.ts';
import type { JsonObject } from '../util/json.ts';
import { type ArchivePlan, archiveTimerId, scheduleArchive } from './archive.ts';
import { IncidentInputError, IncidentNotFoundError, IncidentStateError, UnknownRoleError } from './errors.ts';
import { type AffectedServicesHealth, overallStatus } from './health-check.ts';
import { type Incident, type IncidentRole, incidentId, type SlackMessageRef } from './incident.ts';
import type { IncidentRepositories, IncidentStore } from './ports.ts';
import { type PostmortemPlan, schedulePostmortem } from './postmortem.ts';
import { parseSeverity } from './severity.ts';
import { type IncidentStatus, OPEN_STATUSES } from './status.ts';
import { BOT_ACTOR, noteSourceKey, pinSourceKey, type TimelineEvent } from './timeline.ts';

export const COMMANDER_ROLE = 'commander';

/**
 * The recorded flow that sets a declared incident up where people follow it (channel, headline,
 * announcement): its run is inserted with the incident, so a crash before it is done is finished later.
 */
export const INCIDENT_SETUP_FLOW = 'incident.setup';

/** Short names people type for the default roles. */
const ROLE_ALIASES: Record<string, string> = {
  ic: 'commander',
  comms: 'communications lead',
  'comms lead': 'communications lead',
  notes: 'scribe',
};

export interface DeclareInput {
  title: string;
  /** A severity word (`p1`, `sev1`, `P1`); unknown ones throw UnknownSeverityError. */
  severity: string;
  declaredBy: string;
  /** Defaults to the declarer. */
  commander?: string;
  affectedServices?: readonly string[];
  summary?: string | null;
  impact?: string | null;
  /** Same key twice returns the first incident (double submits, retries). */
  dedupeKey?: string | null;
  /**
   * Records the run of INCIDENT_SETUP_FLOW in the declare's transaction, claimed by the caller who
   * does the setup next (see src/flows/recorded-flow.ts).
   */
  setup?: { input: JsonObject; claim: { owner: string; until: Date } };
}

export interface DeclareOutcome<Run = unknown> {
  incident: Incident;
  /** False when the dedupe key matched an incident declared before. */
  created: boolean;
  /** The setup run created with the incident (null for a repeat, or when no setup was asked for). */
  setup: Run | null;
}

export interface UpdateInput {
  actor: string;
  status: IncidentStatus;
  impact?: string | null;
  nextStep?: string | null;
  /** When the next update is due; default now + the severity's update cadence. */
  nextUpdateAt?: Date;
  /** Or: the next update is due this long after this update. */
  nextUpdateInMs?: number;
}

export interface UpdateOutcome {
  incident: Incident;
  previousStatus: IncidentStatus;
  nextStep: string | null;
}

export interface SeverityChangeOutcome {
  incident: Incident;
  from: string;
  /** False when the incident already had this severity (nothing recorded). */
  changed: boolean;
}

export interface RoleOutcome {
  incident: Incident;
  role: string;
  previousUserId: string | null;
  changed: boolean;
}

export interface ResolveInput {
  actor: string;
  resolution: string;
  rootCause?: string | null;
}

export interface ResolveOutcome {
  incident: Incident;
  /** The channel's archive timer; null when nothing is archived (no channel, or archiveAfter 0). */
  archive: ArchivePlan | null;
  /** The post-mortem the severity requires (due, reminded), or null. */
  postmortem: PostmortemPlan | null;
}

export interface NoteInput {
  actor: string;
  text: string;
  /** The delivery adding it (a slash command's trigger id): the same delivery twice adds one note. */
  deliveryKey?: string | null;
}

export interface PinInput {
  /** Where the pinned message is. */
  message: SlackMessageRef;
  /** Who wrote the message (its author is the event's actor). */
  author: string;
  text: string;
  permalink: string;
  /** Who put the 📌 on it. */
  pinnedBy: string;
  /** When the message was written. */
  at: Date;
}

export interface HealthCheckInput {
  actor: string;
  checked: AffectedServicesHealth;
  /** Where the result was posted. */
  message: SlackMessageRef;
}

export interface TimelineOutcome {
  event: TimelineEvent;
  /** False when the same source (delivery, pinned message) was recorded before. */
  created: boolean;
}

export interface IncidentServiceOptions<Run> {
  store: IncidentStore<Run>;
  clock: Clock;
  config: RunbookConfig;
  logger: Logger;
}

const MAX_TITLE = 5_000;

function required(text: string | undefined | null, what: string): string {
  const value = (text ?? '').trim();
  if (value === '') throw new IncidentInputError(`${what} cannot be empty.`);
  return value;
}

function optional(text: string | undefined | null): string | null {
  const value = (text ?? '').trim();
  return value === '' ? null : value;
}

export class IncidentService<Run = unknown> {
  readonly #store: IncidentStore<Run>;
  readonly #clock: Clock;
  readonly #config: RunbookConfig;
  readonly #logger: Logger;

  constructor(options: IncidentServiceOptions<Run>) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#config = options.config;
    this.#logger = options.logger;
  }

  /** The severity level of the config by its name (falls back to tolerant parsing). */
  severity(name: string): SeverityConfig {
    return parseSeverity(name, this.#config.severities);
  }

  /** The configured roles, matched tolerantly: `Commander`, `comms`, `communications lead`. */
  role(word: string): string {
    const roles = this.#config.incidents.roles;
    const typed = word
      .trim()
      .toLowerCase()
      .replace(/[_-]+/g, ' ')
      .replace(/^incident /, '');
    const w = ROLE_ALIASES[typed] ?? typed;
    const found =
      roles.find((r) => r.toLowerCase() === w) ??
      roles.find((r) => r.toLowerCase().startsWith(w) && w.length >= 3) ??
      roles.find((r) =>
        r
          .toLowerCase()
          .split(/\s+/)
          .some((part) => part.startsWith(w) && w.length >= 3),
      );
    if (!found) throw new UnknownRoleError(word, roles);
    return found;
  }

  /** When the next update is due after `from`, by the severity's update cadence. */
  nextUpdateDue(severity: string, from: Date = this.#clock.now()): Date {
    return addMilliseconds(from, this.severity(severity).updateCadence);
  }

  async get(number: number): Promise<Incident> {
    const incident = await this.#store.repos.incidents.get(number);
    if (!incident) throw new IncidentNotFoundError(number);
    return incident;
  }

  /** The incident, or null when there is no such incident. */
  find(number: number): Promise<Incident | null> {
    return this.#store.repos.incidents.get(number);
  }

  listOpen(): Promise<Incident[]> {
    return this.#store.repos.incidents.listOpen();
  }

  roles(number: number): Promise<IncidentRole[]> {
    return this.#store.repos.roles.list(number);
  }

  async declare(input: DeclareInput): Promise<DeclareOutcome<Run>> {
    const title = required(input.title, 'The title').slice(0, MAX_TITLE);
    const severity = parseSeverity(input.severity, this.#config.severities);
    const commander = input.commander ?? input.declaredBy;
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      const { incident, created } = await repos.incidents.declare({
        title,
        severity: severity.name,
        declaredBy: input.declaredBy,
        commander,
        affectedServices: input.affectedServices ?? [],
        summary: optional(input.summary),
        impact: optional(input.impact),
        startedAt: now,
        nextUpdateDueAt: addMilliseconds(now, severity.updateCadence),
        dedupeKey: input.dedupeKey ?? null,
      });
      if (!created) return { incident, created, setup: null };
      await repos.roles.assign({
        incidentNumber: incident.number,
        role: COMMANDER_ROLE,
        userId: commander,
        assignedBy: input.declaredBy,
      });
      await repos.timeline.add({
        incidentNumber: incident.number,
        actor: input.declaredBy,
        kind: 'declared',
        at: now,
        text: `${incidentId(incident.number)} declared as ${severity.name}: ${title}`,
        data: { severity: severity.name, commander, affectedServices: [...(input.affectedServices ?? [])] },
      });
      const setup = input.setup
        ? await repos.setupRuns.create({
            flow: INCIDENT_SETUP_FLOW,
            subject: String(incident.number),
            input: input.setup.input,
            claim: input.setup.claim,
          })
        : null;
      return { incident, created, setup };
    });
  }

  async postUpdate(number: number, input: UpdateInput): Promise<UpdateOutcome> {
    if (!OPEN_STATUSES.includes(input.status)) {
      throw new IncidentInputError(
        'An update sets the status to investigating, identified or monitoring; resolve the incident to close it.',
      );
    }
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      const current = await this.#lockOpen(repos, number, 'post an update to');
      const nextUpdateDueAt =
        input.nextUpdateAt ??
        (input.nextUpdateInMs !== undefined && input.nextUpdateInMs > 0
          ? addMilliseconds(now, input.nextUpdateInMs)
          : this.nextUpdateDue(current.severity, now));
      const impact = optional(input.impact);
      const nextStep = optional(input.nextStep);
      const incident = await repos.incidents.update(number, {
        status: input.status,
        ...(impact !== null ? { impact } : {}),
        lastUpdateAt: now,
        nextUpdateDueAt,
      });
      if (!incident) throw new IncidentNotFoundError(number);
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'status_update',
        at: now,
        text: `Status ${input.status}${impact ? `. Impact: ${impact}` : ''}${nextStep ? `. Next: ${nextStep}` : ''}`,
        data: {
          from: current.status,
          to: input.status,
          impact,
          nextStep,
          nextUpdateDueAt: nextUpdateDueAt.toISOString(),
        },
      });
      return { incident, previousStatus: current.status, nextStep };
    });
  }

  async changeSeverity(
    number: number,
    input: { actor: string; severity: string; reason: string },
  ): Promise<SeverityChangeOutcome> {
    const severity = parseSeverity(input.severity, this.#config.severities);
    const reason = required(input.reason, 'The reason for the severity change');
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      const current = await this.#lockOpen(repos, number, 'change the severity of');
      if (current.severity === severity.name)
        return { incident: current, from: current.severity, changed: false };
      // The next update is due by the new cadence when that comes sooner.
      const byNewCadence = addMilliseconds(current.lastUpdateAt ?? current.startedAt, severity.updateCadence);
      const nextUpdateDueAt =
        current.nextUpdateDueAt && current.nextUpdateDueAt < byNewCadence
          ? current.nextUpdateDueAt
          : byNewCadence;
      const incident = await repos.incidents.update(number, { severity: severity.name, nextUpdateDueAt });
      if (!incident) throw new IncidentNotFoundError(number);
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'severity_change',
        at: now,
        text: `Severity ${current.severity} → ${severity.name}: ${reason}`,
        data: { from: current.severity, to: severity.name, reason },
      });
      return { incident, from: current.severity, changed: true };
    });
  }

  async assignRole(
    number: number,
    input: { actor: string; role: string; userId: string },
  ): Promise<RoleOutcome> {
    const role = this.role(input.role);
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      const current = await this.#lock(repos, number);
      const { previousUserId } = await repos.roles.assign({
        incidentNumber: number,
        role,
        userId: input.userId,
        assignedBy: input.actor,
      });
      const changed = previousUserId !== input.userId;
      let incident = current;
      if (role === COMMANDER_ROLE && current.commander !== input.userId) {
        incident = (await repos.incidents.update(number, { commander: input.userId })) ?? current;
      }
      if (changed) {
        await repos.timeline.add({
          incidentNumber: number,
          actor: input.actor,
          kind: 'role_change',
          at: now,
          text: `<@${input.userId}> is ${role}${previousUserId ? ` (was <@${previousUserId}>)` : ''}`,
          data: { role, userId: input.userId, previousUserId },
        });
      }
      return { incident, role, previousUserId, changed };
    });
  }

  /**
   * Resolves: in the same transaction every timer of the incident (escalation, reminders) is
   * cancelled and archiving its channel is scheduled (incidents.archiveAfter).
   */
  async resolve(number: number, input: ResolveInput): Promise<ResolveOutcome> {
    const resolution = required(input.resolution, 'The resolution');
    const rootCause = optional(input.rootCause);
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      await this.#lockOpen(repos, number, 'resolve');
      const incident = await repos.incidents.update(number, {
        status: 'resolved',
        resolvedAt: now,
        resolution,
        rootCause,
        lastUpdateAt: now,
        nextUpdateDueAt: null,
      });
      if (!incident) throw new IncidentNotFoundError(number);
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'resolved',
        at: now,
        text: `Resolved: ${resolution}${rootCause ? `. Root cause: ${rootCause}` : ''}`,
        data: { resolution, rootCause },
      });
      await repos.timers.cancelSubject(incidentSubject(number));
      const archive = await scheduleArchive(repos.timers, incident, this.#config.incidents.archiveAfter);
      const postmortem = await schedulePostmortem(
        repos,
        incident,
        this.#config.severities.find((s) => s.name === incident.severity),
        this.#config.incidents.postmortemDue,
      );
      return { incident, archive, postmortem };
    });
  }

  /** Back to investigating; the channel's archive timer is cancelled. */
  async reopen(number: number, input: { actor: string }): Promise<Incident> {
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      const current = await this.#lock(repos, number);
      if (current.status !== 'resolved') {
        throw new IncidentStateError(`${incidentId(number)} is not resolved (it is ${current.status}).`);
      }
      const incident = await repos.incidents.update(number, {
        status: 'investigating',
        resolvedAt: null,
        lastUpdateAt: now,
        nextUpdateDueAt: this.nextUpdateDue(current.severity, now),
      });
      if (!incident) throw new IncidentNotFoundError(number);
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'reopened',
        at: now,
        text: `${incidentId(number)} reopened`,
        data: { resolution: current.resolution, rootCause: current.rootCause },
      });
      await repos.timers.cancel(archiveTimerId(number));
      return incident;
    });
  }

  /**
   * Adds a note (author, UTC time) to the timeline. One note per delivery, enforced by the timeline's
   * unique source key: a Slack retry or the same delivery reaching another replica adds nothing more.
   */
  async addNote(number: number, input: NoteInput): Promise<TimelineOutcome> {
    const text = required(input.text, 'A note');
    return this.#tx(async (repos) => {
      await this.#lock(repos, number);
      return repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'note',
        text,
        sourceKey: input.deliveryKey ? noteSourceKey(input.deliveryKey) : null,
      });
    });
  }

  /** A 📌 on a message: the message (author, text, link) goes on the timeline, once per message. */
  async recordPin(number: number, input: PinInput): Promise<TimelineOutcome> {
    const { channelId: channel, ts } = input.message;
    return this.#tx(async (repos) => {
      await this.#lock(repos, number);
      return repos.timeline.add({
        incidentNumber: number,
        actor: input.author,
        kind: 'pinned_message',
        text: input.text,
        at: input.at,
        data: { channel, ts, author: input.author, permalink: input.permalink, pinnedBy: input.pinnedBy },
        sourceKey: pinSourceKey(channel, ts),
      });
    });
  }

  /** The last 📌 came off the message: it leaves the timeline. False when it was not on it. */
  async removePin(message: SlackMessageRef): Promise<boolean> {
    const removed = await this.#store.transaction((repos) =>
      repos.timeline.removeBySourceKey(pinSourceKey(message.channelId, message.ts)),
    );
    return removed !== null;
  }

  /** Records a health check of the incident's affected services (posted at `message`) on its timeline. */
  async recordHealthCheck(
    number: number,
    input: HealthCheckInput,
  ): Promise<{ event: TimelineEvent; status: HealthStatus }> {
    const { checked } = input;
    const status = overallStatus(checked);
    const summaries = checked.reports.map(summarizeReport);
    const { event } = await this.#tx(async (repos) => {
      await this.#lock(repos, number);
      return repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'health_check',
        text: `Health check: ${status}. ${summaries.join('; ')}`,
        data: {
          status,
          services: checked.reports.map((r) => ({
            service: r.service ?? null,
            environment: r.environment ?? null,
            status: r.status,
            durationMs: Math.round(r.durationMs),
          })),
          notConfigured: checked.notConfigured,
          noChecks: checked.noChecks,
          message: { channelId: input.message.channelId, ts: input.message.ts },
        } satisfies JsonObject,
      });
    });
    return { event, status };
  }

  /**
   * What changed on the affected services before the incident was declared (deploy-aware incidents:
   * see src/deploy/recent-changes.ts), on its timeline once; the headline shows it.
   */
  async recordRecentChanges(
    number: number,
    input: { text: string; services: readonly JsonObject[] },
  ): Promise<TimelineOutcome> {
    const text = required(input.text, 'The recent changes');
    return this.#tx(async (repos) => {
      await this.#lock(repos, number);
      return repos.timeline.add({
        incidentNumber: number,
        actor: BOT_ACTOR,
        kind: 'deploy_action',
        text,
        data: { event: 'recent_changes', services: [...input.services] },
        sourceKey: `recent-changes:${number}`,
      });
    });
  }

  #tx<T>(fn: (repos: IncidentRepositories<Run>) => Promise<T>): Promise<T> {
    return this.#store.transaction(fn);
  }

  /** Reads the incident with a row lock, so concurrent actions on it apply one after another. */
  async #lock(repos: IncidentRepositories<Run>, number: number): Promise<Incident> {
    const incident = await repos.incidents.lock(number);
    if (!incident) throw new IncidentNotFoundError(number);
    return incident;
  }

  async #lockOpen(repos: IncidentRepositories<Run>, number: number, action: string): Promise<Incident> {
    const incident = await this.#lock(repos, number);
    if (incident.status === 'resolved') {
      throw new IncidentStateError(
        `${incidentId(number)} is resolved: reopen it (\`/incident reopen ${incidentId(number)}\`) to ${action} it.`,
      );
    }
    return incident;
  }
}
