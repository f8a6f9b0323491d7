import { z } from 'zod';
import type { Incident } from '../../src/incidents/incident.ts';
import { incidentId } from '../../src/incidents/incident.ts';
import type { TimelineEvent } from '../../src/incidents/timeline.ts';
import { timelineMarkdown } from '../../src/incidents/timeline-export.ts';
import type { Services } from '../../src/services.ts';
import { buildMarkdownMessages } from '../../src/slack/incidents/blocks/timeline-export.ts';
import { incidentOfCommand } from '../../src/slack/incidents/context.ts';
import { renderTimelinePage, timelineNames } from '../../src/slack/incidents/timeline-page.ts';
import type { CommandInvocation, Subcommand } from '../../src/slack/kit/command.ts';
import { UserInputError } from '../../src/slack/kit/errors.ts';

const EXPORT_BATCH = 1000;

const openedIm = z.object({ channel: z.object({ id: z.string().min(1) }) });

type TimelineRequest = { kind: 'page'; page: number | 'last' } | { kind: 'export' };

function parseRequest(rest: string, id: string): TimelineRequest {
  const words = rest.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { kind: 'page', page: 'last' };
  if (words.length === 1 && words[0] === 'export') return { kind: 'export' };
  const number = words[0] === 'page' && words.length === 2 ? words[1] : words.length === 1 ? words[0] : '';
  if (number !== undefined && /^\d{1,6}$/.test(number) && Number(number) > 0) {
    return { kind: 'page', page: Number(number) };
  }
  throw new UserInputError(
    `\`/incident timeline ${rest.trim()}\` is not something I understand.`,
    `Usage: \`/incident timeline ${id}\` (newest page), \`/incident timeline ${id} page 2\`, or \`/incident timeline ${id} export\` for Markdown.`,
  );
}

async function allEvents(services: Services, incident: Incident): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  for (;;) {
    const batch = await services.repos.timeline.list(incident.number, {
      limit: EXPORT_BATCH,
      offset: events.length,
    });
    events.push(...batch);
    if (batch.length < EXPORT_BATCH) return events;
  }
}

/** Sends the Markdown export to the user in a direct message (response_url allows only 5 posts). */
async function sendExport(invocation: CommandInvocation, incident: Incident): Promise<void> {
  const { services, client, payload } = invocation;
  const id = incidentId(incident.number);
  if (!(await invocation.ackOnce())) return;
  const events = await allEvents(services, incident);
  const nameOf = await timelineNames(services, client, [
    ...events,
    ...(incident.commander ? [{ actor: incident.commander, text: '', data: {} }] : []),
  ]);
  const messages = buildMarkdownMessages(
    `${id} timeline (Markdown)`,
    timelineMarkdown(incident, events, nameOf),
  );
  const opened = openedIm.safeParse(await client.conversations.open({ users: payload.user_id }));
  if (!opened.success) {
    throw new Error(`conversations.open answered without a channel id for ${payload.user_id}`);
  }
  for (const message of messages) {
    await client.chat.postMessage({ channel: opened.data.channel.id, ...message });
  }
  await invocation.reply({
    text: `:page_facing_up: Sent ${id}'s timeline (${events.length} event${events.length === 1 ? '' : 's'}) as Markdown to you in a direct message, in ${messages.length} message${messages.length === 1 ? '' : 's'}.`,
  });
}

/** `timeline [INC-n] [page N | export]`: the incident's timeline, oldest first, newest page by default. */
export const timeline: Subcommand = {
  name: 'timeline',
  usage: 'timeline [INC-42] [page N | export]',
  summary: 'show the incident timeline (newest page first), or export it as Markdown',
  async run(invocation) {
    const { services } = invocation;
    const { incident, rest } = await incidentOfCommand(invocation);
    const request = parseRequest(rest, incidentId(incident.number));
    if (request.kind === 'export') return sendExport(invocation, incident);
    // Acknowledge before the database work; the page then arrives through response_url.
    await invocation.ack();
    await invocation.reply(
      await renderTimelinePage(services, invocation.client, incident, request.page, { clamp: false }),
    );
  },
};
