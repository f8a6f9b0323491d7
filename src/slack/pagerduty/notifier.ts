/** The PagerDuty sender's notifier port (src/pagerduty/sender.ts), done in Slack. */
import type { WebClient } from '@slack/web-api';
import { incidentId } from '../../incidents/incident.ts';
import type { PagerDutyNotice, PagerDutyNotifier } from '../../pagerduty/sender.ts';
import { escapeMrkdwn, truncate } from '../kit/escape.ts';

/** The message telling the commander that a page did not get through, and what to do. */
export function pagerDutyNoticeText(notice: PagerDutyNotice): string {
  const who = notice.incident.commander ? `<@${notice.incident.commander}> ` : '';
  const what = notice.action === 'change' ? 'change event' : `*${notice.action}*`;
  const id = incidentId(notice.incident.number);
  const answer = `${notice.status ? `HTTP ${notice.status}: ` : ''}${escapeMrkdwn(truncate(notice.message, 300))}`;
  const errors = notice.errors
    .slice(0, 10)
    .map((e) => `\n• ${escapeMrkdwn(truncate(e, 300))}`)
    .join('');
  if (notice.outcome === 'rejected') {
    return (
      `:warning: ${who}PagerDuty refused the ${what} page of ${id} (${answer}).${errors}\n` +
      'It is not retried: fix the PagerDuty settings, and page the on-call by hand if they must know.'
    );
  }
  const tries = notice.attempts === 1 ? 'once' : `${notice.attempts} times`;
  return (
    `:warning: ${who}The ${what} page of ${id} could not be sent to PagerDuty (tried ${tries}; last: ${answer}).\n` +
    'Nothing more is tried: page the on-call by hand if they must know.'
  );
}

export function slackPagerDutyNotifier(client: WebClient): PagerDutyNotifier {
  return {
    async refused(notice) {
      const { channelId, announcement } = notice.incident;
      const text = pagerDutyNoticeText(notice);
      if (channelId) {
        await client.chat.postMessage({ channel: channelId, text });
      } else if (announcement) {
        await client.chat.postMessage({ channel: announcement.channelId, thread_ts: announcement.ts, text });
      }
    },
  };
}
