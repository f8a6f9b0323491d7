/**
 * What the incident domain needs from the outside, as interfaces it owns: the records (implemented by
 * src/store, timers included), and what it has to say in Slack (implemented by
 * src/slack/incidents). The domain imports none of their implementations.
 */
import type { PagerDutyOutbox } from '../pagerduty/pagerduty.ts';
import type { TimerRecords } from '../timers/timers.ts';
import type { JsonObject } from '../util/json.ts';
import type { Incident, IncidentRole, SlackMessageRef } from './incident.ts';
import type { LadderLevel } from './ladder.ts';
import type { FollowupRecords, PostmortemRecords } from './postmortem.ts';
import type { IncidentStatus } from './status.ts';
import type { TimelineEvent, TimelineKind } from './timeline.ts';

export interface DeclareIncidentInput {
  title: string;
  severity: string;
  declaredBy: string;
  /** Defaults to the declarer; null leaves the role open. */
  commander?: string | null;
  affectedServices?: readonly string[];
  impact?: string | null;
  summary?: string | null;
  channelId?: string | null;
  /** Defaults to now. */
  startedAt?: Date;
  nextUpdateDueAt?: Date | null;
  /** Declaring twice with the same key returns the first incident (Slack retries, double clicks). */
  dedupeKey?: string | null;
}

export interface DeclareResult {
  incident: Incident;
  /** False when the dedupe key matched an existing incident. */
  created: boolean;
}

/** Fields update() may change. Undefined leaves a field alone; null clears it. */
export interface IncidentPatch {
  title?: string;
  severity?: string;
  status?: IncidentStatus;
  commander?: string | null;
  affectedServices?: readonly string[];
  impact?: string | null;
  summary?: string | null;
  lastUpdateAt?: Date | null;
  nextUpdateDueAt?: Date | null;
  /** Must be set together with status 'resolved' and cleared when reopening (a CHECK enforces it). */
  resolvedAt?: Date | null;
  resolution?: string | null;
  rootCause?: string | null;
  /** Set together (a CHECK enforces it); cleared together when reopening. */
  acknowledgedAt?: Date | null;
  acknowledgedBy?: string | null;
  escalationLevel?: number;
  mitigatedAt?: Date | null;
}

export interface SlackRefsPatch {
  channelId?: string | null;
  announcement?: SlackMessageRef | null;
  headline?: SlackMessageRef | null;
}

export interface AssignRoleInput {
  incidentNumber: number;
  role: string;
  userId: string;
  assignedBy: string;
}

export interface AssignRoleResult {
  assignment: IncidentRole;
  /** Who held the role before (null when it was open); equal to userId when nothing changed. */
  previousUserId: string | null;
}

export interface AddTimelineEventInput {
  incidentNumber: number;
  actor: string;
  kind: TimelineKind;
  text: string;
  data?: JsonObject;
  /** When it happened; defaults to now. */
  at?: Date;
  /** Dedupe key of the source, e.g. `pin:C123:1712345678.000100`: one event per source. */
  sourceKey?: string | null;
}

export interface AddTimelineEventResult {
  event: TimelineEvent;
  /** False when an event with the same sourceKey existed. */
  created: boolean;
}

export interface IncidentRecords {
  /** Declares with the next number (gap-free); idempotent on dedupeKey. */
  declare(input: DeclareIncidentInput): Promise<DeclareResult>;
  get(number: number): Promise<Incident | null>;
  /** Reads the incident with a row lock (inside a transaction: until it ends). */
  lock(number: number): Promise<Incident | null>;
  findByChannel(channelId: string): Promise<Incident | null>;
  findByAnnouncement(ref: SlackMessageRef): Promise<Incident | null>;
  listOpen(): Promise<Incident[]>;
  update(number: number, patch: IncidentPatch): Promise<Incident | null>;
  setSlackRefs(number: number, refs: SlackRefsPatch): Promise<Incident | null>;
}

export interface RoleRecords {
  assign(input: AssignRoleInput): Promise<AssignRoleResult>;
  list(incidentNumber: number): Promise<IncidentRole[]>;
}

export interface TimelineRecords {
  /** Adds an event; with a sourceKey already recorded, returns that event instead (created: false). */
  add(input: AddTimelineEventInput): Promise<AddTimelineEventResult>;
  findBySourceKey(sourceKey: string): Promise<TimelineEvent | null>;
  /** Removes the event recorded for this source; returns it, or null. */
  removeBySourceKey(sourceKey: string): Promise<TimelineEvent | null>;
  list(incidentNumber: number, page?: { limit?: number; offset?: number }): Promise<TimelineEvent[]>;
  /** Events of one kind, oldest first (at most `limit`, 50 by default). */
  listOfKind(incidentNumber: number, kind: TimelineKind, limit?: number): Promise<TimelineEvent[]>;
  /** How many events of one kind, all of them (no limit), and the time of the latest. */
  countOfKind(incidentNumber: number, kind: TimelineKind): Promise<{ count: number; latestAt: Date | null }>;
  count(incidentNumber: number): Promise<number>;
}

/** Creates the recorded run of a flow (the incident's Slack setup) with the incident. */
export interface SetupRuns<Run> {
  create(input: {
    flow: string;
    subject: string;
    input: JsonObject;
    claim: { owner: string; until: Date };
  }): Promise<Run>;
}

export interface IncidentRepositories<Run = unknown> {
  incidents: IncidentRecords;
  roles: RoleRecords;
  timeline: TimelineRecords;
  setupRuns: SetupRuns<Run>;
  /** Durable timers (archiving, escalation, reminders), scheduled in the same transaction. */
  timers: TimerRecords;
  /** Pages for PagerDuty, recorded with the change that caused them (sent by a timer). */
  pagerduty: PagerDutyOutbox;
  /** Post-mortems and follow-ups (src/incidents/postmortem.ts). */
  postmortems: PostmortemRecords;
  followups: FollowupRecords;
}

/** The records: read outside a transaction, or change in one. */
export interface IncidentStore<Run = unknown> {
  repos: IncidentRepositories<Run>;
  transaction<T>(fn: (repos: IncidentRepositories<Run>) => Promise<T>): Promise<T>;
}

/** What the incident domain has to do where people follow incidents (Slack). */
export interface IncidentNotifier {
  /** Archives the incident's channel; an already archived channel is not an error. */
  archiveChannel(channelId: string): Promise<'archived' | 'already_archived'>;
  /**
   * A ladder level was reached (by its delay or by hand): invite its people to the channel, mention
   * them with the reason, do its action (post where it says), show the level on the headline.
   * Throws when the notice did not reach the incident (every post failed, or it has nowhere to post
   * yet): the escalation timer is then tried again and says it again (EscalateOutcome fresh: false).
   */
  escalated(notice: EscalationNotice): Promise<void>;
  /** The next update is due (nudge the commander), or overdue by the grace (the communications lead too). */
  updateReminder(notice: UpdateReminderNotice): Promise<void>;
}

export interface EscalationNotice {
  incident: Incident;
  level: LadderLevel;
  /** The ladder's length (level 2 of 3). */
  of: number;
  reason: string;
  /** Who escalated: a Slack user id, or 'bot' for the ladder's timer. */
  actor: string;
}

export interface UpdateReminderNotice {
  incident: Incident;
  /** False: due now (the commander is nudged); true: overdue by incidents.updateGrace. */
  overdue: boolean;
  commander: string | null;
  /** Who holds the communications lead role (told when overdue); null when nobody does. */
  communicationsLead: string | null;
}
