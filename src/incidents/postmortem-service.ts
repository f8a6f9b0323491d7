/**
 * Post-mortems and follow-ups as domain methods: each change one transaction with its timeline
 * event ('postmortem', 'followup', 'reminder'), returning an outcome. Drafting (rendering, posting,
 * uploading) happens in Slack first; recordDraft then records where it went.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import type { Clock } from '../clock.ts';
import type { RunbookConfig } from '../config/schema.ts';
import { IncidentInputError, IncidentNotFoundError, IncidentStateError } from './errors.ts';
import { type Incident, incidentId, type SlackMessageRef } from './incident.ts';
import type { IncidentRepositories, IncidentStore } from './ports.ts';
import {
  FOLLOWUP_REMINDER_KIND,
  type Followup,
  followupReminderId,
  followupSubject,
  type LinkedOperation,
  type Postmortem,
  postmortemSubject,
  schedulePostmortemReminder,
} from './postmortem.ts';
import { BOT_ACTOR } from './timeline.ts';

export const FOLLOWUP_TEXT_MAX = 2_000;

export interface DraftInput {
  actor: string;
  /** The summary message with its "Mark complete" button (null when it could not be posted). */
  message: SlackMessageRef | null;
  fileId: string | null;
}

export interface CompleteOutcome {
  postmortem: Postmortem;
  /** False when it was complete already. */
  changed: boolean;
}

export interface FollowupInput {
  actor: string;
  owner: string;
  text: string;
  dueAt?: Date | null;
}

export interface FollowupDoneOutcome {
  followup: Followup;
  changed: boolean;
}

export interface PostmortemServiceOptions {
  store: IncidentStore;
  clock: Clock;
  config: RunbookConfig;
}

export class PostmortemService {
  readonly #store: IncidentStore;
  readonly #clock: Clock;
  readonly #config: RunbookConfig;

  constructor(options: PostmortemServiceOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#config = options.config;
  }

  find(number: number): Promise<Postmortem | null> {
    return this.#store.repos.postmortems.get(number);
  }

  followups(number: number): Promise<Followup[]> {
    return this.#store.repos.followups.list(number);
  }

  followup(id: number): Promise<Followup | null> {
    return this.#store.repos.followups.get(id);
  }

  linkedOperations(number: number): Promise<LinkedOperation[]> {
    return this.#store.repos.postmortems.linkedOperations(number);
  }

  /** Refuses a post-mortem of an incident that is still open. */
  assertDraftable(incident: Incident): void {
    if (incident.status !== 'resolved') {
      const id = incidentId(incident.number);
      throw new IncidentStateError(
        `${id} is still ${incident.status}: its post-mortem is drafted when it is resolved (\`/incident resolve ${id}\`).`,
      );
    }
  }

  /**
   * Before a draft is posted: the incident's post-mortem (one asked for by hand, its severity
   * requiring none, is created here, due `incidents.postmortemDue` from now, with its reminder), so
   * that "Mark complete" works as soon as the summary is there.
   */
  async prepare(number: number): Promise<Postmortem> {
    const now = this.#clock.now();
    return this.#store.transaction(async (repos) => {
      const incident = await this.#lock(repos, number);
      this.assertDraftable(incident);
      const dueAt = addMilliseconds(now, this.#config.incidents.postmortemDue);
      const { postmortem, created } = await repos.postmortems.ensure({
        incidentNumber: number,
        required: false,
        dueAt,
      });
      if (created) await schedulePostmortemReminder(repos.timers, number, dueAt);
      return postmortem;
    });
  }

  /**
   * Records a draft posted in Slack. A post-mortem asked for by hand (its severity requires none)
   * is created here, due `incidents.postmortemDue` from now, with its reminder.
   */
  async recordDraft(number: number, input: DraftInput): Promise<Postmortem> {
    const now = this.#clock.now();
    return this.#store.transaction(async (repos) => {
      const incident = await this.#lock(repos, number);
      this.assertDraftable(incident);
      const dueAt = addMilliseconds(now, this.#config.incidents.postmortemDue);
      const { created } = await repos.postmortems.ensure({ incidentNumber: number, required: false, dueAt });
      if (created) await schedulePostmortemReminder(repos.timers, number, dueAt);
      const postmortem = await repos.postmortems.recordDraft(number, {
        at: now,
        by: input.actor,
        message: input.message,
        fileId: input.fileId,
      });
      if (!postmortem) throw new IncidentNotFoundError(number);
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'postmortem',
        at: now,
        text: `Post-mortem drafted${postmortem.drafts > 1 ? ` again (draft ${postmortem.drafts})` : ''}`,
        data: {
          event: 'drafted',
          draft: postmortem.drafts,
          fileId: input.fileId,
          dueAt: postmortem.dueAt.toISOString(),
        },
      });
      return postmortem;
    });
  }

  /** Marks the post-mortem complete: its reminder is cancelled. */
  async complete(number: number, input: { actor: string }): Promise<CompleteOutcome> {
    const now = this.#clock.now();
    return this.#store.transaction(async (repos) => {
      await this.#lock(repos, number);
      const current = await repos.postmortems.lock(number);
      if (!current) {
        throw new IncidentStateError(
          `${incidentId(number)} has no post-mortem yet: \`/incident postmortem ${incidentId(number)}\` drafts one.`,
        );
      }
      if (current.status === 'complete') return { postmortem: current, changed: false };
      const postmortem = await repos.postmortems.complete(number, { at: now, by: input.actor });
      if (!postmortem) return { postmortem: current, changed: false };
      await repos.timers.cancelSubject(postmortemSubject(number));
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'postmortem',
        at: now,
        text: 'Post-mortem marked complete',
        data: { event: 'completed' },
      });
      return { postmortem, changed: true };
    });
  }

  /** The commander was reminded (once). */
  async markReminded(number: number): Promise<boolean> {
    const now = this.#clock.now();
    return this.#store.transaction(async (repos) => {
      const incident = await this.#lock(repos, number);
      const changed = await repos.postmortems.markReminded(number, now);
      if (changed) {
        await repos.timeline.add({
          incidentNumber: number,
          actor: BOT_ACTOR,
          kind: 'reminder',
          at: now,
          text: `Post-mortem not marked complete yet: reminded ${incident.commander ? `<@${incident.commander}>` : 'the channel'}`,
          data: { event: 'postmortem_reminder', commander: incident.commander },
        });
      }
      return changed;
    });
  }

  async addFollowup(number: number, input: FollowupInput): Promise<Followup> {
    const text = input.text.trim();
    if (text === '') throw new IncidentInputError('A follow-up needs a description of what to do.');
    if (text.length > FOLLOWUP_TEXT_MAX) {
      throw new IncidentInputError(
        `A follow-up is at most ${FOLLOWUP_TEXT_MAX} characters (this one has ${text.length}).`,
      );
    }
    const now = this.#clock.now();
    const dueAt = input.dueAt ?? null;
    return this.#store.transaction(async (repos) => {
      await this.#lock(repos, number);
      const followup = await repos.followups.add({
        incidentNumber: number,
        owner: input.owner,
        text,
        dueAt,
        createdBy: input.actor,
      });
      if (dueAt) {
        await repos.timers.schedule({
          id: followupReminderId(followup.id),
          kind: FOLLOWUP_REMINDER_KIND,
          subject: followupSubject(followup.id),
          payload: { followup: followup.id },
          dueAt,
        });
      }
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'followup',
        at: now,
        text: `Follow-up #${followup.number} for <@${input.owner}>: ${text}${dueAt ? ` (due ${dueAt.toISOString().slice(0, 10)})` : ''}`,
        data: {
          event: 'added',
          followup: followup.number,
          owner: input.owner,
          dueAt: dueAt?.toISOString() ?? null,
        },
      });
      return followup;
    });
  }

  async completeFollowup(
    number: number,
    followupNumber: number,
    input: { actor: string },
  ): Promise<FollowupDoneOutcome> {
    const now = this.#clock.now();
    return this.#store.transaction(async (repos) => {
      await this.#lock(repos, number);
      const current = await repos.followups.byNumber(number, followupNumber);
      if (!current) {
        throw new IncidentInputError(
          `${incidentId(number)} has no follow-up #${followupNumber}: \`/incident followup list\` shows them.`,
        );
      }
      if (current.status === 'done') return { followup: current, changed: false };
      const followup = await repos.followups.markDone(number, followupNumber, { at: now, by: input.actor });
      if (!followup) return { followup: current, changed: false };
      await repos.timers.cancelSubject(followupSubject(followup.id));
      await repos.timeline.add({
        incidentNumber: number,
        actor: input.actor,
        kind: 'followup',
        at: now,
        text: `Follow-up #${followup.number} done: ${followup.text}`,
        data: { event: 'done', followup: followup.number },
      });
      return { followup, changed: true };
    });
  }

  /** The follow-up's owner was reminded (once). */
  async markFollowupReminded(id: number): Promise<boolean> {
    const now = this.#clock.now();
    return this.#store.transaction(async (repos) => {
      const followup = await repos.followups.get(id);
      if (!followup) return false;
      await this.#lock(repos, followup.incidentNumber);
      const changed = await repos.followups.markReminded(id, now);
      if (changed) {
        await repos.timeline.add({
          incidentNumber: followup.incidentNumber,
          actor: BOT_ACTOR,
          kind: 'reminder',
          at: now,
          text: `Follow-up #${followup.number} is due: reminded <@${followup.owner}>`,
          data: { event: 'followup_reminder', followup: followup.number, owner: followup.owner },
        });
      }
      return changed;
    });
  }

  async #lock(repos: IncidentRepositories, number: number): Promise<Incident> {
    const incident = await repos.incidents.lock(number);
    if (!incident) throw new IncidentNotFoundError(number);
    return incident;
  }
}
