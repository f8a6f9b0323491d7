/**
 * The incident response as a Slack-free domain service: declare, post updates, change severity,
 * assign roles, resolve and reopen, notes, pinned messages and health checks on the timeline. Each
 * state change is one method: one transaction over the records (src/incidents/ports.ts) that records
 * its timeline event (UTC time and actor), returning an outcome. Built once, in src/runtime.ts.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import type { Clock } from '../clock.ts';
import { formatDuration } from '../config/duration.ts';
import type { RunbookConfig, SeverityConfig } from '../config/schema.ts';
import { summarizeReport } from '../health/summary.ts';
import type { HealthStatus } from '../health/types.ts';
import type { Logger } from '../logger.ts';
import { incidentSubject } from '../timers/timers.ts';
import type { JsonObject } from '../util/json.ts';
import { type ArchivePlan, archiveTimerId, scheduleArchive } from './archive.ts';
import { IncidentInputError, IncidentNotFoundError, IncidentStateError, UnknownRoleError } from './errors.ts';
import {
  cancelLadder,
  type EscalateOutcome,
  followUpPages,
  scheduleLadder,
  triggerPage,
} from './escalation.ts';
import { type AffectedServicesHealth, overallStatus } from './health-check.ts';
import { type Incident, type IncidentRole, incidentId, type SlackMessageRef } from './incident.ts';
import { type LadderLevel, ladderFor } from './ladder.ts';
import type { IncidentRepositories, IncidentStore } from './ports.ts';
import { type PostmortemPlan, schedulePostmortem } from './postmortem.ts';
import { parseSeverity } from './severity.ts';
import { type IncidentStatus, OPEN_STATUSES } from './status.ts';
import { BOT_ACTOR, noteSourceKey, pinSourceKey, type TimelineEvent } from './timeline.ts';
import { type ReminderOutcome, scheduleUpdateReminders } from './update-reminders.ts';

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

export interface AcknowledgeOutcome {
  incident: Incident;
  /** False when it was acknowledged before (by incident.acknowledgedBy). */
  changed: boolean;
  /** From the declaration (or the reopen) to the acknowledgement. */
  timeToAcknowledgeMs: number;
}

export interface EscalateInput {
  actor: string;
  /** 1-based level of the ladder; default: the next one. */
  level?: number;
  reason?: string | null;
}

/** Which round of the ladder an incident is in: 0 from the declaration, n after its n-th reopen. */
export interface LadderRound {
  round: number;
  from: Date;
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
      await scheduleLadder(repos.timers, {
        number: incident.number,
        ladder: this.ladder(severity.name),
        from: now,
        round: 0,
        above: 0,
      });
      await scheduleUpdateReminders(repos.timers, incident, this.#config.incidents.updateGrace);
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
        // The first update to identified or monitoring is when it was mitigated (time to mitigate).
        ...(input.status !== 'investigating' && !current.mitigatedAt ? { mitigatedAt: now } : {}),
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
      await scheduleUpdateReminders(repos.timers, incident, this.#config.incidents.updateGrace);
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
      await scheduleUpdateReminders(repos.timers, incident, this.#config.incidents.updateGrace);
      // The new severity's ladder applies from the round's start, above the level reached.
      if (!incident.acknowledgedAt) {
        const { round, from } = await this.#round(repos, incident);
        const ladder = this.ladder(severity.name);
        // Levels of the new ladder the incident stands at already page now when they page.
        for (const level of ladder) {
          if (level.level > incident.escalationLevel) continue;
          const page = triggerPage(
            this.#config,
            incident,
            level,
            round,
            `severity ${severity.name}: ${reason}`,
          );
          if (page) await repos.pagerduty.enqueue(page);
        }
        await cancelLadder(repos.timers, number, this.#config);
        await scheduleLadder(repos.timers, {
          number,
          ladder,
          from,
          round,
          above: incident.escalationLevel,
        });
      }
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
      const { round } = await this.#round(repos, incident);
      await followUpPages(repos.pagerduty, this.#config, incident, 'resolve', round);
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
        // Someone has to take it again: the ladder goes on from the reopen, above the level reached.
        acknowledgedAt: null,
        acknowledgedBy: null,
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
      const { round } = await this.#round(repos, incident);
      const ladder = this.ladder(incident.severity);
      // PagerDuty is paged again for the levels that paged before (a new round's keys).
      for (const level of ladder) {
        if (level.level > incident.escalationLevel) continue;
        const page = triggerPage(this.#config, incident, level, round, `${incidentId(number)} reopened`);
        if (page) await repos.pagerduty.enqueue(page);
      }
      await scheduleLadder(repos.timers, {
        number,
        ladder,
        from: now,
        round,
        above: incident.escalationLevel,
      });
      await scheduleUpdateReminders(repos.timers, incident, this.#config.incidents.updateGrace);
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

  /** The escalation ladder of a severity (escalation.ladders, else escalation.levels). */
  ladder(severity: string): LadderLevel[] {
    return ladderFor(this.#config, severity);
  }

  /** The round of the ladder the incident is in (reads its reopens). */
  round(incident: Incident): Promise<LadderRound> {
    return this.#round(this.#store.repos, incident);
  }

  /**
   * Someone took the incident: acknowledged time and person recorded, on the timeline with the time
   * to acknowledge; the ladder stops (its timers cancelled) and every page of the round is
   * acknowledged in PagerDuty. Acknowledging twice changes nothing.
   */
  async acknowledge(number: number, input: { actor: string }): Promise<AcknowledgeOutcome> {
    const now = this.#clock.now();
    return this.#tx(async (repos) => {
      const current = await this.#lockOpen(repos, number, 'acknowledge');
      const { round, from } = await this.#round(repos, current);
      if (current.acknowledgedAt) {
        return {
          incident: current,
          changed: false,
          timeToAcknowledgeMs: current.acknowledgedAt.getTime() - from.getTime(),
        };
      }
      const incident = await repos.incidents.update(number, {
        acknowledgedAt: now,
        acknowledgedBy: input.actor,
      });
      if (!incident) throw new IncidentNotFoundError(number);
      const timeToAcknowledgeMs = Math.max(0, now.getTime() - from.getTime());
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'acknowledged',
        at: now,
        text: `Acknowledged by <@${input.actor}> after ${formatDuration(timeToAcknowledgeMs)}`,
        data: { timeToAcknowledgeMs, escalationLevel: incident.escalationLevel, round },
      });
      await cancelLadder(repos.timers, number, this.#config);
      await followUpPages(repos.pagerduty, this.#config, incident, 'acknowledge', round);
      return { incident, changed: true, timeToAcknowledgeMs };
    });
  }

  /**
   * Escalates by hand (`/incident escalate [level] [reason]`): to the next level of the ladder, or
   * the one named; it must be above the level reached. Acknowledged incidents may be escalated too.
   */
  async escalate(number: number, input: EscalateInput): Promise<EscalateOutcome> {
    const reason = optional(input.reason) ?? 'escalated by hand';
    return this.#tx(async (repos) => {
      const current = await this.#lockOpen(repos, number, 'escalate');
      const ladder = this.ladder(current.severity);
      const id = incidentId(number);
      if (ladder.length === 0) {
        throw new IncidentInputError(
          `${current.severity} has no escalation ladder: set escalation.ladders.${current.severity} (or escalation.levels) in the bot's config.`,
        );
      }
      const wanted = input.level ?? current.escalationLevel + 1;
      const level = ladder[wanted - 1];
      const names = ladder.map((l) => `${l.level} ${l.name}`).join(', ');
      if (!level) {
        throw new IncidentInputError(
          input.level === undefined
            ? `${id} is at the top of its ladder already (level ${current.escalationLevel}: ${ladder.at(-1)?.name}).`
            : `The ladder of ${current.severity} has no level ${wanted}: its levels are ${names}.`,
        );
      }
      if (level.level <= current.escalationLevel) {
        throw new IncidentStateError(
          `${id} has reached level ${current.escalationLevel} already; escalate to a higher one (${names}).`,
        );
      }
      const { round } = await this.#round(repos, current);
      return this.#recordEscalation(repos, current, level, ladder.length, {
        actor: input.actor,
        reason,
        round,
        sourceKey: null,
      });
    });
  }

  /**
   * The ladder's timer of `level` is due: escalates unless the incident was acknowledged, resolved or
   * reopened since (another round), or has reached the level already. A level this timer recorded
   * before (its notice then failed) is answered again with fresh: false.
   */
  async escalateOnSchedule(number: number, at: { level: number; round: number }): Promise<EscalateOutcome> {
    return this.#tx(async (repos) => {
      const current = await repos.incidents.lock(number);
      if (!current) return { kind: 'skipped', why: 'no such incident' };
      if (current.status === 'resolved') return { kind: 'skipped', why: 'resolved' };
      const ladder = this.ladder(current.severity);
      const level = ladder[at.level - 1];
      if (!level)
        return { kind: 'skipped', why: `the ladder of ${current.severity} has no level ${at.level}` };
      const { round } = await this.#round(repos, current);
      if (round !== at.round) return { kind: 'skipped', why: `a timer of round ${at.round}, now ${round}` };
      const sourceKey = `escalated:${number}:r${round}:L${level.level}`;
      const earlier = await repos.timeline.findBySourceKey(sourceKey);
      if (earlier) {
        const reason = typeof earlier.data.reason === 'string' ? earlier.data.reason : '';
        return {
          kind: 'escalated',
          incident: current,
          level,
          of: ladder.length,
          reason,
          actor: BOT_ACTOR,
          fresh: false,
          paged: false,
        };
      }
      if (current.acknowledgedAt) return { kind: 'skipped', why: 'acknowledged' };
      if (current.escalationLevel >= level.level)
        return { kind: 'skipped', why: `at level ${current.escalationLevel} already` };
      const reason =
        level.delayMs === 0
          ? `${round === 0 ? 'declared' : 'reopened'} as ${current.severity}: this level is told at once`
          : `not acknowledged ${formatDuration(level.delayMs)} after it was ${round === 0 ? 'declared' : 'reopened'}`;
      return this.#recordEscalation(repos, current, level, ladder.length, {
        actor: BOT_ACTOR,
        reason,
        round,
        sourceKey,
      });
    });
  }

  /**
   * A reminder timer of the next update is due: recorded on the timeline once per due time (and kind),
   * unless an update moved the due time or the incident was resolved meanwhile.
   */
  async recordUpdateReminder(
    number: number,
    input: { due: Date; overdue: boolean },
  ): Promise<ReminderOutcome> {
    return this.#tx(async (repos) => {
      const current = await repos.incidents.lock(number);
      if (!current) return { kind: 'skipped', why: 'no such incident' };
      if (current.status === 'resolved') return { kind: 'skipped', why: 'resolved' };
      if (current.nextUpdateDueAt?.getTime() !== input.due.getTime())
        return { kind: 'skipped', why: 'an update moved the due time' };
      const roles = await repos.roles.list(number);
      const commsRole = this.#communicationsRole();
      const communicationsLead = commsRole ? (roles.find((r) => r.role === commsRole)?.userId ?? null) : null;
      const { created } = await repos.timeline.add({
        incidentNumber: number,
        actor: BOT_ACTOR,
        kind: 'reminder',
        text: input.overdue
          ? `Update overdue by ${formatDuration(this.#config.incidents.updateGrace)}: the communications lead was told`
          : 'Update due: the commander was reminded',
        data: {
          due: input.due.toISOString(),
          overdue: input.overdue,
          commander: current.commander,
          communicationsLead,
        },
        sourceKey: `reminder:${number}:${input.due.toISOString()}:${input.overdue ? 'overdue' : 'due'}`,
      });
      return {
        kind: 'remind',
        incident: current,
        commander: current.commander,
        communicationsLead,
        fresh: created,
      };
    });
  }

  #communicationsRole(): string | null {
    try {
      return this.role('communications lead');
    } catch {
      return null;
    }
  }

  async #recordEscalation(
    repos: IncidentRepositories<Run>,
    current: Incident,
    level: LadderLevel,
    of: number,
    input: { actor: string; reason: string; round: number; sourceKey: string | null },
  ): Promise<EscalateOutcome> {
    const number = current.number;
    const incident = await repos.incidents.update(number, {
      escalationLevel: Math.max(current.escalationLevel, level.level),
    });
    if (!incident) throw new IncidentNotFoundError(number);
    const page = triggerPage(this.#config, incident, level, input.round, input.reason);
    const paged = page ? await repos.pagerduty.enqueue(page) : false;
    await repos.timeline.add({
      incidentNumber: number,
      actor: input.actor,
      kind: 'escalated',
      text: `Escalated to level ${level.level} of ${of} (${level.name}): ${input.reason}`,
      data: {
        level: level.level,
        name: level.name,
        notify: level.notify,
        reason: input.reason,
        round: input.round,
        paged,
        ...(level.action ? { action: level.action.text } : {}),
      },
      sourceKey: input.sourceKey,
    });
    return {
      kind: 'escalated',
      incident,
      level,
      of,
      reason: input.reason,
      actor: input.actor,
      fresh: true,
      paged,
    };
  }

  async #round(repos: IncidentRepositories<Run>, incident: Incident): Promise<LadderRound> {
    // Every reopen counts (no page limit): the 51st reopen is round 51.
    const reopens = await repos.timeline.countOfKind(incident.number, 'reopened');
    return { round: reopens.count, from: reopens.latestAt ?? incident.startedAt };
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
