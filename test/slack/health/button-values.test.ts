import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../../src/health/types.ts';
import {
  decodePost,
  encodeServicePost,
  MAX_BUTTON_VALUE,
  reportOf,
} from '../../../src/slack/health/button-values.ts';
import { UserInputError } from '../../../src/slack/kit/errors.ts';

const report = (reason: string): HealthReport => ({
  service: 'barq-api',
  environment: 'production',
  status: 'degraded',
  startedAt: new Date('2026-01-05T08:00:00Z'),
  durationMs: 412.7,
  results: [
    {
      name: 'api',
      type: 'http',
      target: 'https://api.example.com/health',
      status: 'degraded',
      latencyMs: 120,
      reason,
      details: { big: 'x'.repeat(5000) },
      children: [{ name: 'database', type: 'component', target: '', status: 'degraded', latencyMs: 1200 }],
    },
  ],
});

describe('health button values', () => {
  it('carry the report itself when it fits, without details', () => {
    const value = encodeServicePost(report('slow'));
    expect(value.length).toBeLessThanOrEqual(MAX_BUTTON_VALUE);
    expect(reportOf(decodePost(value))).toEqual({
      service: 'barq-api',
      environment: 'production',
      status: 'degraded',
      startedAt: new Date('2026-01-05T08:00:00Z'),
      durationMs: 413,
      results: [
        {
          name: 'api',
          status: 'degraded',
          latencyMs: 120,
          reason: 'slow',
          children: [{ name: 'database', status: 'degraded', latencyMs: 1200 }],
        },
      ],
    });
  });

  it('fall back to a reference when the report is too large', () => {
    const value = encodeServicePost(report('r'.repeat(3000)));
    expect(value.length).toBeLessThanOrEqual(MAX_BUTTON_VALUE);
    const decoded = decodePost(value);
    expect(decoded).toEqual({ v: 1, k: 'svc', s: 'barq-api', e: 'production' });
    expect(reportOf(decoded)).toBeUndefined();
  });

  it('refuse a value they did not make', () => {
    expect(() => decodePost('{"v":2}')).toThrow(UserInputError);
    expect(() => decodePost('not json')).toThrow(UserInputError);
  });
});
