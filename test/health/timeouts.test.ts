import { describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../src/config/schema.ts';
import { checkTimeoutMs, defaultHttpTimeoutMs } from '../../src/health/timeouts.ts';
import { ref } from './helpers/refs.ts';

describe('check timeouts', () => {
  it('follow the Fleet endpoint table by path', () => {
    expect(defaultHttpTimeoutMs('https://fleet.example.com/health')).toBe(5_000);
    expect(defaultHttpTimeoutMs('https://fleet.example.com/health/liveness')).toBe(1_000);
    expect(defaultHttpTimeoutMs('https://fleet.example.com/health/readiness/')).toBe(3_000);
    expect(defaultHttpTimeoutMs('https://fleet.example.com/health/startup?x=1')).toBe(10_000);
    expect(defaultHttpTimeoutMs('https://fleet.example.com/health/metrics')).toBe(2_000);
    expect(defaultHttpTimeoutMs('https://fleet.example.com/api/status')).toBe(5_000);
    expect(defaultHttpTimeoutMs(`https://${ref('HOST')}/health/liveness`)).toBe(1_000);
  });

  it('a configured timeout wins; other check types default to 5 s', () => {
    const http = healthCheckSchema.parse({
      type: 'http',
      url: 'https://x.example/health/liveness',
      timeout: '250ms',
    });
    expect(checkTimeoutMs(http)).toBe(250);
    const redis = healthCheckSchema.parse({ type: 'redis', url: 'redis://127.0.0.1:6379' });
    expect(checkTimeoutMs(redis)).toBe(5_000);
  });
});
