import { describe, expect, it } from 'vitest';
import { pinSourceKey } from '../../../src/incidents/timeline.ts';
import { slackTsToDate } from '../../../src/slack/incidents/reactions.ts';

// The listener itself runs end to end in test/e2e/timeline.test.ts (real Bolt, simulator, Postgres, Redis).
describe('reaction event helpers', () => {
  it('reads a Slack ts (seconds.microseconds) as a UTC date', () => {
    expect(slackTsToDate('1767600000.123456').toISOString()).toBe('2026-01-05T08:00:00.123Z');
    expect(slackTsToDate('1767600000.000100').toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(slackTsToDate('1767600000').toISOString()).toBe('2026-01-05T08:00:00.000Z');
  });

  it('keys one timeline event per channel and message', () => {
    expect(pinSourceKey('C1', '1767600000.000100')).toBe('pin:C1:1767600000.000100');
  });
});
