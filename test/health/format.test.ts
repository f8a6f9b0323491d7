import { describe, expect, it } from 'vitest';
import { formatBytes, formatMs, formatNumber, formatPercent } from '../../src/health/format.ts';

describe('formats for reasons', () => {
  it('percentages, bytes, numbers and milliseconds', () => {
    expect(formatPercent(0.85)).toBe('85%');
    expect(formatPercent(0.4523)).toBe('45.2%');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(996_147_200)).toBe('950.0 MB');
    expect(formatNumber(0.00231234)).toBe('0.002312');
    expect(formatNumber(1200)).toBe('1200');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatMs(812.4)).toBe('812ms');
    expect(formatMs(3000)).toBe('3s');
    expect(formatMs(1500)).toBe('1.5s');
  });
});
