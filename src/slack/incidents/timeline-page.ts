/** Loads one page of an incident's timeline and renders it (the command and the page buttons share it). */

import type { WebClient } from '@slack/web-api';
import type { Incident } from '../../incidents/incident.ts';
import { incidentId } from '../../incidents/incident.ts';
import { peopleIn } from '../../incidents/people.ts';
import type { TimelineEvent } from '../../incidents/timeline.ts';
import type { Services } from '../../services.ts';
import type { Reply } from '../kit/command.ts';
import { displayNames, type NameOf } from '../kit/display-names.ts';
import { UserInputError } from '../kit/errors.ts';
import { buildTimelinePage, TIMELINE_PAGE_SIZE, timelinePageCount } from './blocks/timeline.ts';

/** The names of the people of these events (actors, pinners, mentions), looked up at once. */
export function timelineNames(
  services: Pick<Services, 'clock'>,
  client: WebClient,
  events: readonly Pick<TimelineEvent, 'actor' | 'text' | 'data'>[],
): Promise<NameOf> {
  const pinners = events.map((e) => (typeof e.data.pinnedBy === 'string' ? e.data.pinnedBy : null));
  const ids = peopleIn({
    actors: [...events.map((e) => e.actor), ...pinners],
    texts: events.map((e) => e.text),
  });
  return displayNames(client, services.clock, ids);
}

/**
 * `last` is the newest page. A page past the end is a UserInputError when `clamp` is false (typed by
 * the user), else the last page (a button on a page that has since shrunk).
 */
export async function renderTimelinePage(
  services: Services,
  client: WebClient,
  incident: Incident,
  requested: number | 'last',
  options: { clamp: boolean },
): Promise<Reply> {
  const total = await services.repos.timeline.count(incident.number);
  const pages = timelinePageCount(total);
  let page = requested === 'last' ? pages : requested;
  if (page > pages) {
    if (!options.clamp) {
      const id = incidentId(incident.number);
      throw new UserInputError(
        `${id}'s timeline has ${pages} page${pages === 1 ? '' : 's'} (${total} events); there is no page ${page}.`,
        `\`/incident timeline ${id}\` shows the newest page; \`/incident timeline ${id} page 1\` the first.`,
      );
    }
    page = pages;
  }
  const events = await services.repos.timeline.list(incident.number, {
    limit: TIMELINE_PAGE_SIZE,
    offset: (page - 1) * TIMELINE_PAGE_SIZE,
  });
  const nameOf = await timelineNames(services, client, events);
  return buildTimelinePage({ incident, events, page, pages, total, nameOf });
}
