import { describe, expect, it } from 'vitest';
import { buildServiceReport, fitLines } from '../../../src/slack/health/blocks/report.ts';
import { packLines } from '../../../src/slack/kit/pack-lines.ts';

describe('health report blocks', () => {
  it('pack lines into sections of at most 3000 characters and cut with "…and N more"', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(90)}`);
    const packed = packLines(lines);
    expect(packed.length).toBeGreaterThan(1);
    for (const p of packed) expect(p.length).toBeLessThanOrEqual(3000);
    expect(packed.join('\n')).toBe(lines.join('\n'));
    const fitted = fitLines(lines);
    expect(fitted.length).toBeLessThanOrEqual(3000);
    expect(fitted).toMatch(/\n…and \d+ more$/);
  });

  it('escapes names and reasons and stays within 50 blocks for a service with very many checks', () => {
    const results = Array.from({ length: 2000 }, (_, i) => ({
      name: `<!channel> check ${i}`,
      status: 'unhealthy' as const,
      latencyMs: 5,
      reason: `HTTP 503 & <b>${'y'.repeat(200)}</b>`,
    }));
    const reply = buildServiceReport(
      {
        service: 'svc',
        environment: 'production',
        status: 'unhealthy',
        startedAt: new Date(),
        durationMs: 9,
        results,
      },
      { postValue: '{}' },
    );
    const blocks = reply.blocks as { type: string; text?: { text: string } }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(blocks)).toContain('&lt;!channel&gt;');
    expect(blocks.at(-2)?.text?.text).toMatch(/^…and \d+ more$/);
  });
});
