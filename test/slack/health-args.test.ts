import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/slack/errors.ts';
import { parseHealthArgs } from '../../src/slack/health-args.ts';

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
    expect(parseHealthArgs('barq-api --every 100ms --for=5s')).toMatchObject({
      watch: { intervalMs: 100, maxDurationMs: 5_000 },
    });
  });

  it('refuses what it cannot honour, with the usage', () => {
    for (const text of [
      '',
      'a b c',
      'a --nope',
      'a --every',
      'a --every 50ms',
      'a --for 2h',
      'a --every 5m --for 1m',
      'all --watch',
    ]) {
      expect(() => parseHealthArgs(text), text).toThrow(UserInputError);
    }
  });
});
