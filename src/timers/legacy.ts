/**
 * Upgrading from a bot that queued timers in Redis (before durable timers): at start-up the timers
 * left there (channel archiving, by then the only kind) move into Postgres, keeping their id and due
 * time, and are then deleted from Redis. Idempotent (a timer already in Postgres is left as it is),
 * so replicas starting together, or a crash in between, move each once. Redis down: tried at the
 * next start.
 */
import type { Coordination } from '../coordination/coordination.ts';
import type { Logger } from '../logger.ts';
import type { TimerRepository } from '../store/repositories/timers.ts';

export async function importLegacyTimers(
  coordination: Coordination,
  timers: TimerRepository,
  logger: Logger,
): Promise<number> {
  try {
    const legacy = await coordination.legacyTimers();
    if (legacy.length === 0) return 0;
    let moved = 0;
    for (const t of legacy) {
      const incident = typeof t.payload.incident === 'number' ? t.payload.incident : null;
      const created = await timers.scheduleIfAbsent({
        id: t.id,
        kind: t.kind,
        subject: incident !== null ? `incident:${incident}` : null,
        payload: t.payload,
        dueAt: t.dueAt,
      });
      if (created) moved++;
    }
    await coordination.forgetLegacyTimers(legacy.map((t) => t.id));
    logger.info({ moved, found: legacy.length }, 'moved the timers of the old Redis queue into Postgres');
    return moved;
  } catch (error) {
    logger.warn(
      { err: error },
      'could not move the old Redis timer queue into Postgres; tried at the next start',
    );
    return 0;
  }
}
