/** What the commander reads when a page did not get through: PagerDuty's words escaped, what to do. */
import { describe, expect, it } from 'vitest';
import type { PagerDutyNotice } from '../../src/pagerduty/sender.ts';
import { pagerDutyNoticeText } from '../../src/slack/pagerduty/notifier.ts';

const notice = (over: Partial<PagerDutyNotice> = {}): PagerDutyNotice => ({
  outcome: 'rejected',
  incident: { number: 7, title: 'x', channelId: 'C1', announcement: null, commander: 'U_BOB' },
  action: 'acknowledge',
  status: 400,
  message: 'Event object is invalid <!channel>',
  errors: ["'dedup_key' is missing or blank", '<@U_EVE> & more'],
  attempts: 1,
  ...over,
});

describe('the PagerDuty notice', () => {
  it('names the commander, the page and PagerDuty’s errors, escaped so that they ping nobody', () => {
    const text = pagerDutyNoticeText(notice());
    expect(text).toContain(
      '<@U_BOB> PagerDuty refused the *acknowledge* page of INC-7 (HTTP 400: Event object is invalid &lt;!channel&gt;)',
    );
    expect(text).toContain("\n• 'dedup_key' is missing or blank\n• &lt;@U_EVE&gt; &amp; more");
    expect(text).toContain('It is not retried');
  });

  it('says how many tries failed, and with no commander mentions nobody', () => {
    const text = pagerDutyNoticeText(
      notice({
        outcome: 'failed',
        status: null,
        message: 'PagerDuty did not answer within 2000 ms',
        errors: [],
        attempts: 3,
        incident: { number: 7, title: 'x', channelId: 'C1', announcement: null, commander: null },
      }),
    );
    expect(text).toBe(
      ':warning: The *acknowledge* page of INC-7 could not be sent to PagerDuty (tried 3 times; last: PagerDuty did not answer within 2000 ms).\n' +
        'Nothing more is tried: page the on-call by hand if they must know.',
    );
  });
});
