import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../../src/incidents/timeline.ts';
import { validateBlocks } from '../../../src/local/slack/blocks.ts';
import {
  buildTimelinePage,
  escapeOneLine,
  parseTimelinePageValue,
  SECTION_TEXT_MAX,
  TIMELINE_NEXT_ACTION,
  TIMELINE_PAGE_SIZE,
  TIMELINE_PREVIOUS_ACTION,
  timelineLine,
  timelinePageCount,
} from '../../../src/slack/incidents/blocks/timeline.ts';
import { packLines } from '../../../src/slack/kit/pack-lines.ts';
import { event, incident } from './timeline-fixtures.ts';

function sectionTexts(blocks: unknown[]): string[] {
  return blocks
    .map((b) => b as { type: string; text?: { text: string } })
    .filter((b) => b.type === 'section')
    .map((b) => b.text?.text ?? '');
}

function buttons(blocks: unknown[]): { action_id: string; value: string; text: { text: string } }[] {
  return blocks
    .map(
      (b) => b as { type: string; elements?: { action_id: string; value: string; text: { text: string } }[] },
    )
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}

describe('timeline page blocks', () => {
  it('renders each event on one line with a Slack date token, the actor mention and the kind emoji', () => {
    const line = timelineLine(event(1, { text: 'Failed over\nto the replica' }));
    expect(line).toMatch(
      /^<!date\^1767600001\^\{date_short_pretty\} \{time\}\|2026-01-05 08:00 UTC> <@U_ALICE> :spiral_note_pad: Failed over to the replica$/,
    );
  });

  it('escapes user text so mentions ping nobody and show as typed', () => {
    const line = timelineLine(event(1, { text: '<!channel> & <@U123>' }));
    expect(line).toContain('&lt;!channel&gt; &amp; &lt;@U123&gt;');
    expect(line).not.toContain('<!channel>');
    expect(line).not.toContain('<@U123>');
  });

  it('links a pinned message and names who pinned it', () => {
    const line = timelineLine(
      event(1, {
        kind: 'pinned_message',
        actor: 'U_BOB',
        text: 'DB failover started',
        data: {
          author: 'U_BOB',
          permalink: 'https://runbook-sim.slack.com/archives/C1/p1767600001000100',
          pinnedBy: 'U_CAROL',
        },
      }),
    );
    expect(line).toContain('<@U_BOB> :pushpin: DB failover started');
    expect(line).toContain('<https://runbook-sim.slack.com/archives/C1/p1767600001000100|(message)>');
    expect(line).toContain('pinned by <@U_CAROL>');
  });

  it('cuts long escaped text without splitting an entity', () => {
    const cut = escapeOneLine('&'.repeat(1000), 600);
    expect(cut.length).toBeLessThanOrEqual(600);
    expect(cut).toMatch(/^(&amp;)+…$/);
  });

  it('keeps every one of 300 events, with 5,000-character notes, within Slack limits on every page', () => {
    const events: TimelineEvent[] = Array.from({ length: 300 }, (_, i) =>
      event(i + 1, { text: `${i + 1} ${'<&>'.repeat(1700)}`.slice(0, 5000) }),
    );
    const pages = timelinePageCount(events.length);
    expect(pages).toBe(Math.ceil(300 / TIMELINE_PAGE_SIZE));
    for (let page = 1; page <= pages; page++) {
      const slice = events.slice((page - 1) * TIMELINE_PAGE_SIZE, page * TIMELINE_PAGE_SIZE);
      const reply = buildTimelinePage({ incident: incident(), events: slice, page, pages, total: 300 });
      const blocks = reply.blocks ?? [];
      expect(validateBlocks(blocks, { max: 50, pointer: '/blocks' })).toEqual([]);
      expect(blocks.length).toBeLessThanOrEqual(50);
      const texts = sectionTexts(blocks);
      for (const t of texts) expect(t.length).toBeLessThanOrEqual(SECTION_TEXT_MAX);
      // Every event of the page is there, once.
      const lines = texts.join('\n').split('\n');
      expect(lines).toHaveLength(slice.length);
      for (const [i, e] of slice.entries()) expect(lines[i]).toContain(`:spiral_note_pad: ${e.id} `);
      for (const b of buttons(blocks)) expect(b.text.text.length).toBeLessThanOrEqual(75);
    }
  });

  it('offers Previous/Next only where there is a page to go to, with parseable values', () => {
    const first = buildTimelinePage({
      incident: incident(),
      events: [event(1)],
      page: 1,
      pages: 3,
      total: 41,
    });
    expect(buttons(first.blocks ?? []).map((b) => b.action_id)).toEqual([TIMELINE_NEXT_ACTION]);
    const middle = buildTimelinePage({
      incident: incident(),
      events: [event(1)],
      page: 2,
      pages: 3,
      total: 41,
    });
    const both = buttons(middle.blocks ?? []);
    expect(both.map((b) => b.action_id)).toEqual([TIMELINE_PREVIOUS_ACTION, TIMELINE_NEXT_ACTION]);
    expect(both.map((b) => parseTimelinePageValue(b.value))).toEqual([
      { incidentNumber: 42, page: 1 },
      { incidentNumber: 42, page: 3 },
    ]);
    const only = buildTimelinePage({ incident: incident(), events: [event(1)], page: 1, pages: 1, total: 1 });
    expect(buttons(only.blocks ?? [])).toEqual([]);
  });

  it('refuses button values that are not ours', () => {
    for (const value of ['', '42', '42:0', '0:1', 'x:1', '42:1:2', 42, undefined]) {
      expect(parseTimelinePageValue(value)).toBeNull();
    }
  });

  it('says so when the timeline is empty, and keeps a long title within the header limit', () => {
    const reply = buildTimelinePage({
      incident: incident({ title: 'x'.repeat(500) }),
      events: [],
      page: 1,
      pages: 1,
      total: 0,
    });
    expect(validateBlocks(reply.blocks, { max: 50, pointer: '/blocks' })).toEqual([]);
    expect(sectionTexts(reply.blocks ?? [])[0]).toContain('No events');
  });

  it('packs lines into sections without dropping any', () => {
    const packed = packLines(['a'.repeat(2000), 'b'.repeat(2000), 'c'.repeat(10), 'd'.repeat(4000)], 3000);
    expect(packed.map((p) => p.length)).toEqual([2000, 2011, 3000]);
  });
});
