/** Latency summaries for the benchmarks: nearest-rank percentiles over recorded samples. */

export interface LatencySummary {
  /** Requests sent in the measured window. */
  requests: number;
  /** Non-200 answers, network errors and time-outs. */
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** Requests actually sent per second of measured time. */
  achievedRate: number;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Summarises latencies (ms, successful requests only) sent over `measuredMs` of schedule. */
export function summarize(
  latenciesMs: readonly number[],
  errors: number,
  measuredMs: number,
): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, v) => sum + v, 0);
  const requests = sorted.length + errors;
  return {
    requests,
    errors,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(sorted.length > 0 ? total / sorted.length : Number.NaN),
    achievedRate: round(measuredMs > 0 ? (requests * 1000) / measuredMs : 0, 1),
  };
}
