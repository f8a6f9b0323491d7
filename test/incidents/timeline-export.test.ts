import { describe, expect, it } from 'vitest';
import { escapeMarkdown, formatUtc, timelineMarkdown } from '../../src/incidents/timeline-export.ts';
import { event, incident } from '../slack/incidents/timeline-fixtures.ts';

describe('timeline Markdown export', () => {
  it('has a header with id, title, severity, status and a table of events in UTC', () => {
    const md = timelineMarkdown(
      incident({ status: 'resolved', resolvedAt: new Date('2026-01-05T09:30:00Z') }),
      [
        event(1, { kind: 'declared', actor: 'bot', text: 'Declared P1' }),
        event(2, { text: 'Failed over' }),
        event(3, {
          kind: 'pinned_message',
          actor: 'U_BOB',
          text: 'replica is healthy',
          data: { author: 'U_BOB', permalink: 'https://x.slack.com/archives/C1/p1', pinnedBy: 'U_CAROL' },
        }),
      ],
    );
    const lines = md.split('\n');
    expect(lines[0]).toBe('# INC-42: Checkout down');
    expect(md).toContain('- **Severity:** P1');
    expect(md).toContain('- **Status:** Resolved');
    expect(md).toContain('- **Started:** 2026-01-05T08:00:00Z');
    expect(md).toContain('- **Resolved:** 2026-01-05T09:30:00Z');
    expect(md).toContain('| Time (UTC) | Actor | Event | Details |');
    expect(md).toContain('| 2026-01-05T08:00:01Z | runbook-bot | Declared | Declared P1 |');
    expect(md).toContain('| 2026-01-05T08:00:02Z | @U_ALICE | Note | Failed over |');
    expect(md).toContain(
      '| 2026-01-05T08:00:03Z | @U_BOB | Pinned message | replica is healthy ([message](https://x.slack.com/archives/C1/p1)) pinned by @U_CAROL |',
    );
  });

  it('escapes user text so table cells and Markdown stay intact and show as typed', () => {
    expect(escapeMarkdown('<!channel> & <@U123> | *bold* `code`\nnext')).toBe(
      '\\<!channel\\> & \\<@U123\\> \\| \\*bold\\* \\`code\\`<br>next',
    );
    const md = timelineMarkdown(incident({ title: 'a | b' }), [event(1, { text: 'x | y' })]);
    expect(md).toContain('# INC-42: a \\| b');
    expect(md).toContain('| x \\| y |');
  });

  it('ignores a permalink that is not an https URL', () => {
    const md = timelineMarkdown(incident(), [
      event(1, { kind: 'pinned_message', data: { permalink: 'javascript:alert(1)' } }),
    ]);
    expect(md).not.toContain('javascript');
  });

  it('says when nothing was recorded', () => {
    expect(timelineMarkdown(incident(), [])).toContain('_No events recorded._');
    expect(formatUtc(new Date('2026-01-05T08:00:00.123Z'))).toBe('2026-01-05T08:00:00Z');
  });
});
