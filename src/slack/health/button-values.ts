/**
 * Values of the buttons on health answers. Slack caps a button value at 2000 characters, so a
 * "Post to channel" button carries the report itself (compact, without details) when it fits —
 * the channel then sees exactly what the user saw — and only a reference otherwise (the click
 * checks again). Stateless: any replica can handle the click, even after a restart.
 */
import { z } from 'zod';
import { HEALTH_STATUSES, type HealthReport } from '../../health/types.ts';
import { outOfDate, type UserInputError } from '../kit/errors.ts';
import type { ReportView, ResultView } from './blocks/report.ts';

export const MAX_BUTTON_VALUE = 2000;

const status = z.enum(HEALTH_STATUSES);

interface CompactResult {
  n: string;
  s: (typeof HEALTH_STATUSES)[number];
  l?: number | undefined;
  w?: string | undefined;
  o?: string | undefined;
  c?: CompactResult[] | undefined;
}

const compactResult: z.ZodType<CompactResult> = z.lazy(() =>
  z.object({
    n: z.string(),
    s: status,
    l: z.number().optional(),
    w: z.string().optional(),
    o: z.string().optional(),
    c: z.array(compactResult).optional(),
  }),
);

const compactReport = z.object({
  st: status,
  at: z.number(),
  d: z.number(),
  r: z.array(compactResult),
});

const postValueSchema = z.discriminatedUnion('k', [
  z.object({
    v: z.literal(1),
    k: z.literal('svc'),
    s: z.string(),
    e: z.string().optional(),
    r: compactReport.optional(),
  }),
  z.object({ v: z.literal(1), k: z.literal('all') }),
]);
export type PostHealthValue = z.output<typeof postValueSchema>;

const watchValueSchema = z.object({ v: z.literal(1), s: z.string(), e: z.string().optional() });
export type WatchHealthValue = z.output<typeof watchValueSchema>;

function compact(results: readonly ResultView[]): CompactResult[] {
  return results.map((r) => ({
    n: r.name,
    s: r.status,
    ...(r.latencyMs === undefined ? {} : { l: Math.round(r.latencyMs) }),
    ...(r.reason ? { w: r.reason } : {}),
    ...(r.note ? { o: r.note } : {}),
    ...(r.children && r.children.length > 0 ? { c: compact(r.children) } : {}),
  }));
}

function expand(results: readonly CompactResult[]): ResultView[] {
  return results.map((r) => ({
    name: r.n,
    status: r.s,
    ...(r.l === undefined ? {} : { latencyMs: r.l }),
    ...(r.w === undefined ? {} : { reason: r.w }),
    ...(r.o === undefined ? {} : { note: r.o }),
    ...(r.c ? { children: expand(r.c) } : {}),
  }));
}

/** The "Post to channel" value of one service's report: the report when it fits, else a reference. */
export function encodeServicePost(report: HealthReport): string {
  const ref = {
    v: 1 as const,
    k: 'svc' as const,
    s: report.service ?? '',
    ...(report.environment ? { e: report.environment } : {}),
  };
  const full = JSON.stringify({
    ...ref,
    r: {
      st: report.status,
      at: report.startedAt.getTime(),
      d: Math.round(report.durationMs),
      r: compact(report.results),
    },
  });
  return full.length <= MAX_BUTTON_VALUE ? full : JSON.stringify(ref);
}

/** `/deploy health all` results are too large for a button: the click checks again. */
export function encodeAllPost(): string {
  return JSON.stringify({ v: 1, k: 'all' });
}

export function encodeWatch(service: string, environment: string | undefined): string {
  return JSON.stringify({ v: 1, s: service, ...(environment ? { e: environment } : {}) });
}

const stopWatchValueSchema = z.object({ v: z.literal(1), w: z.string().min(1).max(100) });
export type StopWatchValue = z.infer<typeof stopWatchValueSchema>;

/** The "Stop watching" button of a running watch: the watch's id (any replica can stop it). */
export function encodeStopWatch(watchId: string): string {
  return JSON.stringify({ v: 1, w: watchId });
}

export function decodeStopWatch(value: string): StopWatchValue {
  const parsed = stopWatchValueSchema.safeParse(parseJson(value));
  if (!parsed.success) throw staleButton();
  return parsed.data;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** A value that is not one of ours (older version of the bot, tampered, cut short). */
const staleButton = (): UserInputError => outOfDate('button', '`/deploy health`');

export function decodePost(value: string): PostHealthValue {
  const parsed = postValueSchema.safeParse(parseJson(value));
  if (!parsed.success) throw staleButton();
  return parsed.data;
}

export function decodeWatch(value: string): WatchHealthValue {
  const parsed = watchValueSchema.safeParse(parseJson(value));
  if (!parsed.success) throw staleButton();
  return parsed.data;
}

/** The report a post value carries, or undefined when it is a reference only. */
export function reportOf(value: PostHealthValue): ReportView | undefined {
  if (value.k !== 'svc' || !value.r) return undefined;
  return {
    service: value.s,
    environment: value.e,
    status: value.r.st,
    startedAt: new Date(value.r.at),
    durationMs: value.r.d,
    results: expand(value.r.r),
  };
}
