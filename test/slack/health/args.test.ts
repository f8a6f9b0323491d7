import { describe, expect, it } from 'vitest';
import { parseHealthArgs } from '../../../src/slack/health/args.ts';
import { UserInputError } from '../../../src/slack/kit/errors.ts';

describe('parseHealthArgs', () => {
  it('reads a service, an environment, all, and watch flags with defaults', () => {
    expect(parseHealthArgs('barq-api')).toEqual({ kind: 'service', service: 'barq-api' });
    expect(parseHealthArgs('barq-api staging')).toEqual({
      kind: 'service',
      service: 'barq-api',
      environment: 'staging',
    });
    expect(parseHealthArgs('all')).toEqual({ kind: 'all' });
    expect(parseHealthArgs('barq-api --watch')).toMatchObject({
      watch: { intervalMs: 10_000, maxDurationMs: 600_000 },
    });
    expect(parseHealthArgs('barq-api --every 15s --for=5m')).toMatchObject({
      watch: { intervalMs: 15_000, maxDurationMs: 300_000 },
    });
    expect(parseHealthArgs('barq-api --every 10s --for 10s')).toMatchObject({
      watch: { intervalMs: 10_000, maxDurationMs: 10_000 },
    });
  });

  it('refuses what it cannot honour, with the usage', () => {
    for (const text of [
      '',
      'a b c',
      'a --nope',
      'a --every',
      'a --every 50ms',
      'a --every 100ms',
      'a --every 9s',
      'a --for 5s',
      'a --for 2h',
      'a --every 5m --for 1m',
      'all --watch',
    ]) {
      expect(() => parseHealthArgs(text), text).toThrow(UserInputError);
    }
  });

  it('refuses a watch faster than every 10 s, saying the minimum', () => {
    // Each round updates a Slack message: `--every 100ms` made 116 chat.update calls in 12 s.
    expect(() => parseHealthArgs('web --watch --every 100ms')).toThrow(
      '`--every 100ms` is too short: the minimum is 10s (each round updates a Slack message, and Slack limits how often).',
    );
    expect(() => parseHealthArgs('web --for 2h')).toThrow('`--for 2h` is too long: the maximum is 1h.');
  });
});
