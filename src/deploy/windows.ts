/**
 * Deploy windows per environment, evaluated in the deploy time zone (`deploy.timeZone`, an IANA
 * name, else the fixed `deploy.utcOffset`), with holidays on which no window opens. A window is
 * [from, to): Thursday 13:59 is inside 10:00–14:00, 14:00 is not. An environment without windows
 * (none configured, or an empty list) is open at any time.
 */
import type { RunbookConfig } from '../config/schema.ts';

type DeployPolicy = RunbookConfig['deploy'];

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const MINUTE = 60_000;
const DAY = 86_400_000;

/** Wall-clock parts in the deploy zone. */
interface Wall {
  year: number;
  month: number;
  day: number;
  minutes: number;
}

export interface Zone {
  /** Name shown to people: "Asia/Riyadh" or "UTC+03:00". */
  label: string;
  /** Milliseconds the zone is ahead of UTC at this instant. */
  offsetAt(at: Date): number;
}

export function deployZone(policy: Pick<DeployPolicy, 'timeZone' | 'utcOffset'>): Zone {
  if (policy.timeZone) {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: policy.timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    return {
      label: policy.timeZone,
      offsetAt(at) {
        const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
        const wall = Date.UTC(
          Number(parts.year),
          Number(parts.month) - 1,
          Number(parts.day),
          Number(parts.hour),
          Number(parts.minute),
          Number(parts.second),
        );
        return wall - Math.floor(at.getTime() / 1000) * 1000;
      },
    };
  }
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(policy.utcOffset);
  const sign = match?.[1] === '-' ? -1 : 1;
  const offset = sign * (Number(match?.[2] ?? 0) * 60 + Number(match?.[3] ?? 0)) * MINUTE;
  return { label: `UTC${policy.utcOffset}`, offsetAt: () => offset };
}

function wallOf(zone: Zone, at: Date): Wall {
  const shifted = new Date(at.getTime() + zone.offsetAt(at));
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    minutes: shifted.getUTCHours() * 60 + shifted.getUTCMinutes(),
  };
}

/** The instant of a wall-clock time in the zone (the offset found twice, for a change of offset). */
export function instantOf(zone: Zone, wallMs: number): Date {
  const first = wallMs - zone.offsetAt(new Date(wallMs));
  return new Date(wallMs - zone.offsetAt(new Date(first)));
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

const dateKey = (wallDayMs: number): string => new Date(wallDayMs).toISOString().slice(0, 10);

export type WindowState =
  | { open: true }
  | {
      open: false;
      /** Why it is closed now. */
      why: 'outside' | 'holiday';
      /** When the next window opens (null: none in the next year). */
      nextOpen: Date | null;
      /** "Mon–Thu 10:00–14:00, Fri 10:00–12:00 (Asia/Riyadh)". */
      windows: string;
      /** The holiday, when `why` is holiday. */
      holiday?: string;
    };

/** The environment's windows in words. */
export function describeWindows(policy: DeployPolicy, environment: string): string {
  const windows = policy.windows[environment] ?? [];
  const zone = deployZone(policy);
  const text = windows
    .map((w) => `${w.days.map((d) => d[0]?.toUpperCase() + d.slice(1)).join(', ')} ${w.from}–${w.to}`)
    .join('; ');
  return `${text} (${zone.label})`;
}

/** Whether a change in `environment` may start at `at`, and if not, when it next may. */
export function windowState(policy: DeployPolicy, environment: string, at: Date): WindowState {
  const windows = policy.windows[environment] ?? [];
  if (windows.length === 0) return { open: true };
  const zone = deployZone(policy);
  const holidays = new Set(policy.holidays);
  const now = wallOf(zone, at);
  const todayMs = Date.UTC(now.year, now.month - 1, now.day);
  const todayKey = dateKey(todayMs);
  const isHoliday = holidays.has(todayKey);
  if (!isHoliday) {
    const weekday = DAYS[new Date(todayMs).getUTCDay()];
    for (const w of windows) {
      if (
        weekday &&
        w.days.includes(weekday) &&
        now.minutes >= minutesOf(w.from) &&
        now.minutes < minutesOf(w.to)
      )
        return { open: true };
    }
  }
  let nextOpen: Date | null = null;
  for (let i = 0; i <= 370 && !nextOpen; i++) {
    const dayMs = todayMs + i * DAY;
    if (holidays.has(dateKey(dayMs))) continue;
    const weekday = DAYS[new Date(dayMs).getUTCDay()];
    const starts = windows
      .filter((w) => weekday && w.days.includes(weekday) && minutesOf(w.from) < minutesOf(w.to))
      .map((w) => minutesOf(w.from))
      .filter((start) => i > 0 || start > now.minutes)
      .sort((a, b) => a - b);
    const first = starts[0];
    if (first !== undefined) nextOpen = instantOf(zone, dayMs + first * MINUTE);
  }
  return {
    open: false,
    why: isHoliday ? 'holiday' : 'outside',
    nextOpen,
    windows: describeWindows(policy, environment),
    ...(isHoliday ? { holiday: todayKey } : {}),
  };
}

/** A wall-clock time in the deploy zone ("2026-12-24", "2026-12-24T18:00", "18:00": the next one). */
export function parseZonedTime(policy: DeployPolicy, text: string, after: Date): Date | null {
  const zone = deployZone(policy);
  const full = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(text);
  if (full) {
    const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(full[i] ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const wallMs = Date.UTC(year, month - 1, day, hour, minute);
    // 2026-02-31 or 25:00 would roll over into another day: refused, not read as 3 March.
    const back = new Date(wallMs);
    if (
      back.getUTCFullYear() !== year ||
      back.getUTCMonth() !== month - 1 ||
      back.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59
    )
      return null;
    const at = instantOf(zone, wallMs);
    return Number.isNaN(at.getTime()) ? null : at;
  }
  const time = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (time) {
    const now = wallOf(zone, after);
    const todayMs = Date.UTC(now.year, now.month - 1, now.day);
    const minutes = Number(time[1]) * 60 + Number(time[2]);
    const at = instantOf(zone, todayMs + minutes * MINUTE);
    return at > after ? at : instantOf(zone, todayMs + DAY + minutes * MINUTE);
  }
  return null;
}
