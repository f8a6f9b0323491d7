/**
 * What the incident domain needs from the outside, as interfaces it owns: the records (implemented by
 * src/store, timers included), and what it has to say in Slack (implemented by
 * src/slack/incidents). The domain imports none of their implementations.
 */
import type { PagerDutyOutbox } from '../pagerduty/pagerduty.ts';
import type { TimerRecords } from '../timers/timers.ts';
import type { JsonObject } from '../util/json.ts';
import type { Incident, IncidentRole, SlackMessageRef } from './incident.ts';
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
}
