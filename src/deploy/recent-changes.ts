/**
 * What changed on an incident's affected services in the 24 hours before it was declared: the bot's
 * own operations (the operations table) and the new revisions the platform shows (Platform.history,
 * bounded by a 2 s deadline: a platform that does not answer in time is skipped, and said so), with
 * the previous good revision to roll back to.
 */
import { subMilliseconds } from 'date-fns/subMilliseconds';
import type { Clock } from '../clock.ts';
import type { ServiceConfig } from '../config/schema.ts';
import type { Platform, Revision } from '../platform/platform.ts';
import type { Operation } from '../store/repositories/operations.ts';
import { changeText } from './incident-timeline.ts';
import { badRevisions, previousGood } from './plan.ts';

export const RECENT_CHANGES_WINDOW_MS = 24 * 3_600_000;
export const RECENT_CHANGES_DEADLINE_MS = 2_000;

export interface RecentChange {
  /** ISO time. */
  at: string;
  what: string;
}

export interface ServiceChanges {
  service: string;
  environment: string;
  /** Newest first. */
  changes: RecentChange[];
  /** Where "Roll back" goes: the newest good revision before the current one (null: unknown). */
  previousGood: { revision: string; image: string | null } | null;
  /** 'read', or why the platform's revisions are missing. */
  platform: string;
}

/** States in which an operation changed (or may have changed) something. */
const CHANGED: readonly Operation['state'][] = ['running', 'verifying', 'succeeded', 'failed', 'interrupted'];

const LATE = Symbol('late');

async function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  const running = work();
  running.catch(() => undefined);
  try {
    return await Promise.race([running, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function recentChanges(input: {
  services: readonly ServiceConfig[];
  operations: {
    listRecent(filter: { service: string; environment: string; limit: number }): Promise<Operation[]>;
  };
  platformFor(service: ServiceConfig): Promise<Platform>;
  clock: Clock;
  deadlineMs?: number;
}): Promise<ServiceChanges[]> {
  const since = subMilliseconds(input.clock.now(), RECENT_CHANGES_WINDOW_MS);
  const deadlineMs = input.deadlineMs ?? RECENT_CHANGES_DEADLINE_MS;
  const found = await Promise.all(
    input.services.map(async (service): Promise<ServiceChanges | null> => {
      const earlier = await input.operations.listRecent({
        service: service.name,
        environment: service.environment,
        limit: 100,
      });
      const changes: RecentChange[] = earlier
        .filter((op) => op.createdAt >= since && CHANGED.includes(op.state))
        .map((op) => ({
          at: (op.startedAt ?? op.createdAt).toISOString(),
          what: `${op.kind} by the bot: ${changeText(op)} (${op.state})`,
        }));
      let history: Revision[] = [];
      let platform = 'read';
      try {
        const answer = await withDeadline(deadlineMs, async () =>
          (await input.platformFor(service)).history(20),
        );
        if (answer === LATE) platform = `no answer within ${Math.round(deadlineMs / 100) / 10} s`;
        else history = answer;
      } catch (error) {
        platform = error instanceof Error ? error.message.slice(0, 200) : 'unreadable';
      }
      for (const r of history) {
        if (!r.createdAt || r.createdAt < since) continue;
        changes.push({
          at: r.createdAt.toISOString(),
          what: `new revision ${r.id}${r.image ? ` (${r.image})` : ''}${r.cause ? `: ${r.cause}` : ''}${r.current ? ', serving now' : ''}`,
        });
      }
      if (changes.length === 0) return null;
      changes.sort((a, b) => b.at.localeCompare(a.at));
      const good = history.length > 0 ? previousGood(history, badRevisions(earlier)) : undefined;
      return {
        service: service.name,
        environment: service.environment,
        changes: changes.slice(0, 10),
        previousGood: good ? { revision: good.revision.id, image: good.revision.image ?? null } : null,
        platform,
      };
    }),
  );
  return found.filter((s): s is ServiceChanges => s !== null);
}
