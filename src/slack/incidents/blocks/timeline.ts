/**
 * One page of an incident's timeline in Block Kit: events oldest first, one line each, packed into
 * sections of at most 3,000 characters, with Previous/Next buttons. A page stays far below 50 blocks.
 */

import { Blocks, Elements, Message } from 'slack-block-builder';
import { z } from 'zod';
import type { Incident } from '../../../incidents/incident.ts';
import { incidentId } from '../../../incidents/incident.ts';
import { type NameOf, replaceMentions } from '../../../incidents/people.ts';
import type { TimelineEvent, TimelineKind } from '../../../incidents/timeline.ts';
import { pinnedMessageData, TIMELINE_KIND_LABELS } from '../../../incidents/timeline-export.ts';
import type { Reply } from '../../kit/command.ts';
import { escapeMrkdwn, slackDate, truncate } from '../../kit/escape.ts';
import { LIMITS } from '../../kit/limits.ts';
import { packLines } from '../../kit/pack-lines.ts';

/** Events per page: 20 lines of at most ~900 characters fit in a handful of sections. */
export const TIMELINE_PAGE_SIZE = 20;
/** Slack's limit on a section's text. */
export const SECTION_TEXT_MAX = LIMITS.sectionText;
/** How much of an event's text one line shows (after escaping). */
export const EVENT_TEXT_MAX = 600;
/** Previous/Next buttons: the action ids start with this (Slack wants them unique within a block). */
export const TIMELINE_PAGE_ACTION = 'incident_timeline_page';
export const TIMELINE_PREVIOUS_ACTION = `${TIMELINE_PAGE_ACTION}:previous`;
export const TIMELINE_NEXT_ACTION = `${TIMELINE_PAGE_ACTION}:next`;

export const TIMELINE_KIND_EMOJI: Record<TimelineKind, string> = {
  declared: ':rotating_light:',
  status_update: ':loudspeaker:',
  severity_change: ':arrows_counterclockwise:',
  role_change: ':bust_in_silhouette:',
  summary_update: ':memo:',
  health_check: ':stethoscope:',
  deploy_action: ':rocket:',
  resolved: ':white_check_mark:',
  reopened: ':leftwards_arrow_with_hook:',
  note: ':spiral_note_pad:',
  pinned_message: ':pushpin:',
  reminder: ':alarm_clock:',
  acknowledged: ':eyes:',
  escalated: ':arrow_double_up:',
  paged: ':pager:',
  postmortem: ':books:',
  followup: ':ballot_box_with_check:',
};

export function timelinePageCount(total: number): number {
  return Math.max(1, Math.ceil(total / TIMELINE_PAGE_SIZE));
}

/** The button value: `{incident number}:{page}`. */
export function timelinePageValue(incidentNumber: number, page: number): string {
  return `${incidentNumber}:${page}`;
}

const pageValue = z
  .string()
  .regex(/^\d{1,9}:\d{1,6}$/)
  .transform((value) => {
    const [incident = '0', page = '0'] = value.split(':');
    return { incidentNumber: Number(incident), page: Number(page) };
  })
  .refine((v) => v.incidentNumber > 0 && v.page > 0);

/** Parses a button value; null when it is not one of ours. */
export function parseTimelinePageValue(value: unknown): { incidentNumber: number; page: number } | null {
  const parsed = pageValue.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * Escapes user text for mrkdwn and cuts it to at most `max` characters *after* escaping (an `&`
 * becomes five), on one line, never splitting an entity or a surrogate pair.
 */
export function escapeOneLine(raw: string, max: number): string {
  const flat = raw.replace(/\s+/g, ' ').trim();
  const escaped = escapeMrkdwn(flat);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const char of flat) {
    const piece = escapeMrkdwn(char);
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}

/**
 * A Slack user by name in bold (`nameOf`; `<@U123>` without one), never a ping; the bot's own
 * events read `runbook-bot`.
 */
export function actorMention(actor: string, nameOf?: NameOf): string {
  if (actor === 'bot') return '_runbook-bot_';
  if (!/^[UW][A-Z0-9_]+$/.test(actor)) return escapeOneLine(actor, 80);
  return nameOf ? `*${escapeOneLine(nameOf(actor), 80)}*` : `<@${actor}>`;
}

/**
 * One event on one line: local time, actor, kind emoji, escaped text (and a pinned message's
 * link). With `nameOf`, people (actors and `<@U…>` mentions in the text) show by name.
 */
export function timelineLine(event: TimelineEvent, nameOf?: NameOf): string {
  const head = `${slackDate(event.at)} ${actorMention(event.actor, nameOf)} ${TIMELINE_KIND_EMOJI[event.kind]}`;
  const raw = nameOf ? replaceMentions(event.text, nameOf) : event.text;
  const text = escapeOneLine(raw, EVENT_TEXT_MAX) || `_${TIMELINE_KIND_LABELS[event.kind]}_`;
  if (event.kind !== 'pinned_message') return `${head} ${text}`;
  const pin = pinnedMessageData(event.data);
  const link = pin.permalink ? ` <${escapeMrkdwn(pin.permalink)}|(message)>` : '';
  const by = pin.pinnedBy ? ` · pinned by ${actorMention(pin.pinnedBy, nameOf)}` : '';
  return `${head} ${text}${link}${by}`;
}

export interface TimelinePageInput {
  incident: Incident;
  /** The events of this page, oldest first. */
  events: readonly TimelineEvent[];
  page: number;
  pages: number;
  total: number;
  /** People by name (ids without it). */
  nameOf?: NameOf;
}

/** The ephemeral answer showing one page of the timeline. */
export function buildTimelinePage(input: TimelinePageInput): Reply {
  const { incident, page, pages, total } = input;
  const id = incidentId(incident.number);
  const text = `${id} timeline, page ${page} of ${pages} (${total} event${total === 1 ? '' : 's'})`;
  const header = truncate(
    `${id} timeline: [${incident.severity}] ${incident.title.replace(/\s+/g, ' ')}`,
    150,
  );
  const sections =
    input.events.length > 0
      ? packLines(input.events.map((e) => timelineLine(e, input.nameOf))).map((t) =>
          Blocks.Section({ text: t }),
        )
      : [
          Blocks.Section({
            text: `No events on ${id}'s timeline yet. \`/incident note ${id} <text>\` adds one; a :pushpin: reaction on a message in the incident channel adds that message.`,
          }),
        ];
  const buttons = [
    ...(page > 1
      ? [
          Elements.Button({
            text: 'Previous',
            actionId: TIMELINE_PREVIOUS_ACTION,
            value: timelinePageValue(incident.number, page - 1),
          }),
        ]
      : []),
    ...(page < pages
      ? [
          Elements.Button({
            text: 'Next',
            actionId: TIMELINE_NEXT_ACTION,
            value: timelinePageValue(incident.number, page + 1),
          }),
        ]
      : []),
  ];
  const message = Message({ text })
    .blocks(
      Blocks.Header({ text: header }),
      Blocks.Context().elements(
        `Page ${page} of ${pages} · ${total} event${total === 1 ? '' : 's'} · oldest first · times in your time zone · \`/incident timeline ${id} export\` for Markdown`,
      ),
      ...sections,
      ...(buttons.length > 0 ? [Blocks.Actions().elements(...buttons)] : []),
    )
    .buildToObject();
  return { text, blocks: message.blocks ?? [] } as Reply;
}
