/**
 * Post-mortems in Slack: the draft (rendered from the incident's record and templates/postmortem.md)
 * is posted in the incident's channel (or its #incidents thread) as a summary with a "Mark complete"
 * button, and uploaded there as a Markdown file; then recorded (PostmortemService.recordDraft).
 * The button marks it complete (once), which cancels the reminder.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { Blocks, Elements, Message } from 'slack-block-builder';
import { z } from 'zod';
import { IncidentInputError, IncidentNotFoundError, IncidentStateError } from '../../incidents/errors.ts';
import {
  type Incident,
  incidentId,
  parseIncidentId,
  type SlackMessageRef,
} from '../../incidents/incident.ts';
import { peopleIn } from '../../incidents/people.ts';
import type { Followup, Postmortem } from '../../incidents/postmortem.ts';
import { POSTMORTEM_SECTIONS, postmortemMarkdown } from '../../incidents/postmortem-document.ts';
import type { Services } from '../../services.ts';
import { answering } from '../kit/answering.ts';
import { displayNames } from '../kit/display-names.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn, slackDate, truncate } from '../kit/escape.ts';
import { clickKey, DOUBLE_CLICK_MS, runOnce } from '../kit/once.ts';
import { type SlackStepFailure, slackErrorCode } from '../kit/slack-steps.ts';
import type { IncidentSlackContext } from './incident-slack.ts';

export const POSTMORTEM_COMPLETE_ACTION = 'incident_postmortem_complete';
/** The file may be long: longer than a message, still bounded. */
export const POSTMORTEM_UPLOAD_DEADLINE_MS = 15_000;
const TIMELINE_BATCH = 1_000;

/**
 * The domain's refusals as private answers (escaped: they quote what was typed). Like flows.ts'
 * asUserErrors, which this module cannot import (flows.ts drafts after a resolve).
 */
async function asUserErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof IncidentStateError || error instanceof IncidentInputError) {
      throw new UserInputError(escapeMrkdwn(error.message));
    }
    if (error instanceof IncidentNotFoundError) {
      throw new UserInputError(escapeMrkdwn(error.message), '`/incident list` shows the open ones.');
    }
    throw error;
  }
}

export interface DraftOutcome {
  incident: Incident;
  postmortem: Postmortem;
  markdown: string;
  /** Where it was posted (null: nowhere). */
  message: SlackMessageRef | null;
  fileId: string | null;
  failures: SlackStepFailure[];
}

const uploaded = z.object({
  files: z.array(z.object({ files: z.array(z.object({ id: z.string() })).optional() }).loose()).optional(),
});

/** Where the incident's messages go: its channel, else its #incidents thread. */
export function incidentPlace(incident: Incident): { channel: string; threadTs?: string } | null {
  if (incident.channelId) return { channel: incident.channelId };
  if (incident.announcement)
    return { channel: incident.announcement.channelId, threadTs: incident.announcement.ts };
  return null;
}

function summaryMessage(incident: Incident, postmortem: Postmortem | null, followups: readonly Followup[]) {
  const id = incidentId(incident.number);
  const open = followups.filter((f) => f.status === 'open').length;
  const text = `:books: Post-mortem draft for ${id}: ${escapeMrkdwn(truncate(incident.title, 200))}`;
  const complete = postmortem?.status === 'complete';
  const lines = [
    `*Sections:* ${POSTMORTEM_SECTIONS.join(' · ')}`,
    `*Action items:* ${followups.length} (${open} open) · \`/incident followup ${id} add @owner <what to do> due YYYY-MM-DD\``,
    complete && postmortem.completedBy && postmortem.completedAt
      ? `:white_check_mark: Marked complete by <@${postmortem.completedBy}> ${slackDate(postmortem.completedAt)}`
      : postmortem
        ? `*Due:* ${slackDate(postmortem.dueAt)}: the commander is reminded if it is not marked complete by then.`
        : '',
  ].filter(Boolean);
  const message = Message({ text })
    .blocks(
      Blocks.Section({ text }),
      Blocks.Section({ text: lines.join('\n') }),
      Blocks.Context().elements(
        'The Markdown file below is drafted from the timeline; edit it, review it, then mark it complete.',
      ),
      ...(complete
        ? []
        : [
            Blocks.Actions().elements(
              Elements.Button({
                text: 'Mark complete',
                actionId: POSTMORTEM_COMPLETE_ACTION,
                value: String(incident.number),
              }).primary(),
            ),
          ]),
    )
    .buildToObject();
  return { text, blocks: message.blocks ?? [] };
}

async function allEvents(services: Services, number: number) {
  const events = [];
  for (;;) {
    const batch = await services.repos.timeline.list(number, {
      limit: TIMELINE_BATCH,
      offset: events.length,
    });
    events.push(...batch);
    if (batch.length < TIMELINE_BATCH) return events;
  }
}

/** The draft's Markdown, from the incident's record as it is now (people by display name). */
export async function draftMarkdown(ctx: IncidentSlackContext, incident: Incident): Promise<string> {
  const { services } = ctx;
  const number = incident.number;
  const [roles, events, followups, operations] = await Promise.all([
    services.repos.roles.list(number),
    allEvents(services, number),
    services.postmortems.followups(number),
    services.postmortems.linkedOperations(number),
  ]);
  const ids = peopleIn({
    actors: [
      incident.declaredBy,
      incident.commander,
      ...roles.map((r) => r.userId),
      ...events.map((e) => e.actor),
      ...followups.map((f) => f.owner),
      ...operations.map((o) => o.requestedBy),
    ],
    texts: [...events.map((e) => e.text), ...followups.map((f) => f.text)],
  });
  const nameOf = await displayNames(ctx.client, services.clock, ids);
  return postmortemMarkdown({
    incident,
    severity: services.config.severities.find((s) => s.name === incident.severity),
    roles,
    events,
    followups,
    operations,
    nameOf,
    now: services.clock.now(),
  });
}

async function upload(
  client: WebClient,
  place: { channel: string; threadTs?: string },
  incident: Incident,
  markdown: string,
): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const id = incidentId(incident.number);
  const file = {
    filename: `${id.toLowerCase()}-postmortem.md`,
    title: `${id} post-mortem (draft)`,
    content: markdown,
  };
  const call = place.threadTs
    ? client.filesUploadV2({ channel_id: place.channel, thread_ts: place.threadTs, ...file })
    : client.filesUploadV2({ channel_id: place.channel, ...file });
  call.catch(() => undefined);
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`Slack did not confirm the upload within ${POSTMORTEM_UPLOAD_DEADLINE_MS / 1000} s`),
        ),
      POSTMORTEM_UPLOAD_DEADLINE_MS,
    );
  });
  try {
    const answer = uploaded.safeParse(await Promise.race([call, deadline]));
    return answer.success ? (answer.data.files?.[0]?.files?.[0]?.id ?? null) : null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Drafts the post-mortem of a resolved incident: posts the summary (with "Mark complete") and the
 * Markdown file where the incident lives, then records the draft on its timeline.
 */
export async function draftPostmortemFlow(
  ctx: IncidentSlackContext,
  number: number,
  actor: string,
): Promise<DraftOutcome> {
  const { services } = ctx;
  const incident = await asUserErrors(() => services.incidents.get(number));
  // The post-mortem exists (and "Mark complete" works) before its summary is posted.
  const existing = await asUserErrors(() => services.postmortems.prepare(number));
  const markdown = await draftMarkdown(ctx, incident);
  const followups = await services.postmortems.followups(number);
  const place = incidentPlace(incident);
  const failures: SlackStepFailure[] = [];
  let message: SlackMessageRef | null = null;
  let fileId: string | null = null;
  const logger = ctx.logger.child({ incident: number });
  if (place) {
    try {
      const summary = summaryMessage(incident, existing, followups);
      const posted = await ctx.client.chat.postMessage({
        channel: place.channel,
        ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
        ...summary,
        unfurl_links: false,
      });
      if (posted.ts && posted.channel) message = { channelId: posted.channel, ts: posted.ts };
    } catch (error) {
      logger.warn({ err: error }, 'could not post the post-mortem summary');
      failures.push({ step: 'post the post-mortem summary', error: slackErrorCode(error) });
    }
    try {
      fileId = await upload(ctx.client, place, incident, markdown);
    } catch (error) {
      logger.warn({ err: error }, 'could not upload the post-mortem file');
      failures.push({ step: 'upload the post-mortem as a Markdown file', error: slackErrorCode(error) });
    }
  }
  const postmortem = await asUserErrors(() =>
    services.postmortems.recordDraft(number, { actor, message, fileId }),
  );
  return { incident, postmortem, markdown, message, fileId, failures };
}

/** After a resolve whose severity requires a post-mortem: drafts it; failures are told, never thrown. */
export async function draftAfterResolve(
  ctx: IncidentSlackContext,
  number: number,
): Promise<SlackStepFailure[]> {
  try {
    return (await draftPostmortemFlow(ctx, number, 'bot')).failures;
  } catch (error) {
    ctx.logger.error({ err: error, incident: number }, 'could not draft the post-mortem after the resolve');
    return [
      {
        step: `draft the post-mortem (\`/incident postmortem ${incidentId(number)}\` tries again)`,
        error: slackErrorCode(error),
      },
    ];
  }
}

/** "Mark complete" on the summary: once per click, the summary then shows who and when. */
export function registerPostmortemActions(app: App, services: Services): void {
  app.action<BlockButtonAction>(
    POSTMORTEM_COMPLETE_ACTION,
    async ({ ack, body, action, respond, client }) => {
      await ack();
      const logger = services.logger.child({ action: POSTMORTEM_COMPLETE_ACTION, user: body.user.id });
      await answering(logger, respond, 'marking the post-mortem complete', async () => {
        const number = parseIncidentId(action.value ?? '');
        if (number === null) {
          throw new UserInputError(
            'This button names no incident.',
            'Run `/incident postmortem INC-n` to draft it again with a working button.',
          );
        }
        const key = clickKey(body) ?? `postmortem-complete:${number}:${body.user.id}`;
        const ran = await runOnce(services, key, 'button', DOUBLE_CLICK_MS, async () => {
          const outcome = await asUserErrors(() =>
            services.postmortems.complete(number, { actor: body.user.id }),
          );
          const id = incidentId(number);
          if (!outcome.changed) {
            await respond({
              response_type: 'ephemeral',
              replace_original: false,
              text: `${id}'s post-mortem was marked complete already${outcome.postmortem.completedBy ? ` by <@${outcome.postmortem.completedBy}>` : ''}.`,
            });
            return;
          }
          const incident = await services.incidents.get(number);
          const followups = await services.postmortems.followups(number);
          const ref =
            body.container?.message_ts && body.channel?.id
              ? { channelId: body.channel.id, ts: body.container.message_ts as string }
              : outcome.postmortem.message;
          if (ref) {
            await client.chat
              .update({
                channel: ref.channelId,
                ts: ref.ts,
                ...summaryMessage(incident, outcome.postmortem, followups),
              })
              .catch((error: unknown) =>
                logger.warn({ err: error }, 'could not update the post-mortem summary'),
              );
          }
          const place = incidentPlace(incident);
          if (place) {
            await client.chat
              .postMessage({
                channel: place.channel,
                ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
                text: `:white_check_mark: ${id}'s post-mortem was marked complete by <@${body.user.id}>.`,
              })
              .catch((error: unknown) =>
                logger.warn({ err: error }, 'could not announce the completed post-mortem'),
              );
          }
        });
        if (!ran) logger.info('repeated click ignored');
      });
    },
  );
}

/** `/incident followup list`: the incident's follow-ups, open ones first. */
export function followupList(incident: Incident, followups: readonly Followup[]): { text: string } {
  const id = incidentId(incident.number);
  if (followups.length === 0) {
    return {
      text: `${id} has no follow-ups yet. Add one with \`/incident followup ${id} add @owner <what to do> due YYYY-MM-DD\`.`,
    };
  }
  const sorted = [...followups].sort((a, b) =>
    a.status === b.status ? a.number - b.number : a.status === 'open' ? -1 : 1,
  );
  const lines = sorted.map((f) => {
    const box = f.status === 'done' ? ':white_check_mark:' : ':white_large_square:';
    const due = f.dueAt ? ` · due ${slackDate(f.dueAt, '{date_short_pretty}')}` : '';
    return `${box} *#${f.number}* <@${f.owner}>: ${escapeMrkdwn(truncate(f.text.replace(/\s+/g, ' '), 300))}${due}`;
  });
  const open = followups.filter((f) => f.status === 'open').length;
  return {
    text: [`*${id} follow-ups* (${open} open of ${followups.length}):`, ...lines].join('\n').slice(0, 39_000),
  };
}
