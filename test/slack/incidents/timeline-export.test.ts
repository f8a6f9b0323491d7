import { describe, expect, it } from 'vitest';
import { validateBlocks } from '../../../src/local/slack/blocks.ts';
import {
  buildMarkdownMessages,
  CHUNK_BODY_MAX,
  splitIntoChunks,
} from '../../../src/slack/incidents/blocks/timeline-export.ts';

function sections(blocks: unknown[] | undefined): string[] {
  return (blocks ?? []).map((b) => (b as { text: { text: string } }).text.text);
}

describe('Markdown export messages', () => {
  it('splits at line ends and cuts over-long lines without splitting an entity', () => {
    expect(splitIntoChunks('a\nb\nc', 3)).toEqual(['a\nb', 'c']);
    const chunks = splitIntoChunks(`x${'&amp;'.repeat(10)}`, 8);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(8);
      expect(c.replace(/&amp;/g, '')).not.toContain('&');
    }
    expect(chunks.join('')).toBe(`x${'&amp;'.repeat(10)}`);
  });

  it('keeps every code block within 3,000 characters and every message under 40,000, losing nothing', () => {
    const lines = Array.from(
      { length: 300 },
      (_, i) => `| ${i} | ${'<&>'.repeat(400)} ${'y'.repeat(5000)} |`,
    );
    const markdown = ['# INC-1: big', ...lines].join('\n');
    const messages = buildMarkdownMessages('INC-1 timeline (Markdown)', markdown);
    expect(messages.length).toBeGreaterThan(1);
    let joined = '';
    for (const [i, m] of messages.entries()) {
      expect(validateBlocks(m.blocks, { max: 50, pointer: '/blocks' })).toEqual([]);
      expect(m.text).toBe(`INC-1 timeline (Markdown) (part ${i + 1} of ${messages.length})`);
      const texts = sections(m.blocks);
      expect(texts.reduce((n, t) => n + t.length, 0)).toBeLessThan(40_000);
      for (const t of texts) {
        expect(t.length).toBeLessThanOrEqual(3000);
        expect(t.startsWith('```\n') && t.endsWith('\n```')).toBe(true);
        expect(t.slice(4, -4).length).toBeLessThanOrEqual(CHUNK_BODY_MAX);
        joined += t.slice(4, -4);
      }
    }
    // Escaped for mrkdwn, and all content is there.
    expect(joined).not.toMatch(/<|>/);
    const content = markdown.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(joined.replace(/\n/g, '')).toBe(content.replace(/\n/g, ''));
  });

  it('sends a short document as one message of one block', () => {
    const messages = buildMarkdownMessages('INC-2 timeline (Markdown)', '# INC-2: small\n');
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toBe('INC-2 timeline (Markdown)');
    expect(sections(messages[0]?.blocks)).toEqual(['```\n# INC-2: small\n```']);
  });
});
