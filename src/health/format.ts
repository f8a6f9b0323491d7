/** Number formats for reasons: "85%", "950.0 MB", "0.0023". */

/** 0.85 → "85%", 0.4523 → "45.2%". */
export function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 996147200 → "950.0 MB" (binary multiples, as redis-cli's *_human fields). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Four significant digits, no exponent for everyday magnitudes: 0.0023, 1200, 0.3. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  return String(Number(value.toPrecision(4)));
}

/** Milliseconds for reasons: 812 → "812ms", 3000 → "3s", 1500 → "1.5s", 90000 → "90s". */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  return `${Number((ms / 1_000).toFixed(1))}s`;
}
