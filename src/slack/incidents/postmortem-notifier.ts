/**
 * The post-mortem port (src/incidents/postmortem.ts) done in Slack: the commander is reminded in the
 * incident's channel (or thread) when the post-mortem is not marked complete in time; a follow-up's
 * owner in a direct message when it is due.
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { incidentId } from '../../incidents/incident.ts';
import type { PostmortemNotifier } from '../../incidents/postmortem.ts';
import { escapeMrkdwn, slackDate, truncate } from '../kit/escape.ts';
import { slackErrorCode } from '../kit/slack-steps.ts';
import { incidentPlace } from './postmortem.ts';

/** Where the incident lived is no longer there to post in. */
const GONE = new Set(['is_archived', 'channel_not_found', 'not_in_channel']);

const openedIm = z.object({ channel: z.object({ id: z.string().min(1) }) });

export function slackPostmortemNotifier(client: WebClient): PostmortemNotifier {
  return {
    async remindPostmortem({ incident, postmortem }) {
      const id = incidentId(incident.number);
      const who = incident.commander ? `<@${incident.commander}>` : 'Commander';
      const text = `:alarm_clock: ${who}, ${id}'s post-mortem was due ${slackDate(postmortem.dueAt)} and is not marked complete. ${
        postmortem.status === 'pending'
          ? `Draft it with \`/incident postmortem ${id}\`,`
          : 'Finish the draft above,'
      } review it with the team, then press "Mark complete".`;
      const place = incidentPlace(incident);
      if (place) {
        try {
          await client.chat.postMessage({
            channel: place.channel,
            ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
            text,
          });
          return;
        } catch (error) {
          // An archived (or lost) channel: the commander still hears of it, directly.
          if (!incident.commander || !GONE.has(slackErrorCode(error))) throw error;
        }
      }
      if (incident.commander) {
        const opened = openedIm.parse(await client.conversations.open({ users: incident.commander }));
        await client.chat.postMessage({ channel: opened.channel.id, text });
      }
    },
    async remindFollowup({ incident, followup }) {
      const id = incidentId(incident.number);
      const opened = openedIm.parse(await client.conversations.open({ users: followup.owner }));
      const due = followup.dueAt ? ` was due ${slackDate(followup.dueAt)}` : ' is due';
      await client.chat.postMessage({
        channel: opened.channel.id,
        text: `:alarm_clock: Follow-up #${followup.number} of ${id} (${escapeMrkdwn(truncate(incident.title, 150))})${due}: ${escapeMrkdwn(truncate(followup.text, 1_000))}\nWhen it is done: \`/incident followup ${id} done ${followup.number}\``,
      });
    },
  };
}
