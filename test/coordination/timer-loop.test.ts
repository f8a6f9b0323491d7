import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { Coordination, DueTimer } from '../../src/coordination/coordination.ts';
import { createMemoryCoordination } from '../../src/coordination/memory.ts';
import { startTimerLoop, type TimerPump } from '../../src/coordination/timer-loop.ts';
import { captureLogger } from './capture-logger.ts';

const START = '2026-01-05T08:00:00Z';
const minutes = (n: number) => n * 60_000;

function reminder(
  id: string,
  dueInMs: number,
  clock: ManualClock,
  kind = 'incident.update-reminder',
): DueTimer {
  return { id, kind, payload: { incident: id }, dueAt: new Date(clock.now().getTime() + dueInMs) };
}

describe('timer loop', () => {
  let pump: TimerPump | undefined;
  let coordination: Coordination | undefined;
  afterEach(async () => {
    await pump?.stop();
    await coordination?.close();
    pump = undefined;
    coordination = undefined;
  });

  it('dispatches timers by kind once the clock reaches them, each once', async () => {
    const clock = new ManualClock(START);
    coordination = createMemoryCoordination({ clock });
    const reminders: DueTimer[] = [];
    const escalations: DueTimer[] = [];
    const { logger } = captureLogger();
    pump = startTimerLoop({
      coordination,
      clock,
      intervalMs: 5,
      logger,
      handlers: {
        'incident.update-reminder': async (t) => {
          reminders.push(t);
        },
        'incident.escalate': async (t) => {
          escalations.push(t);
        },
      },
    });
    await coordination.schedule(reminder('INC-1', minutes(30), clock));
    await coordination.schedule(reminder('INC-2', minutes(10), clock, 'incident.escalate'));
    await coordination.schedule(reminder('INC-3', minutes(60), clock));

    // Nothing is due yet, however often the loop polls.
    expect(await pump.poll()).toEqual({ taken: 0, handled: 0, failed: 0 });

    clock.advance(minutes(30));
    // The background loop picks them up on its own.
    await vi.waitFor(() => expect(reminders.length + escalations.length).toBe(2));
    expect(reminders.map((t) => t.id)).toEqual(['INC-1']);
    expect(reminders[0]).toMatchObject({ kind: 'incident.update-reminder', payload: { incident: 'INC-1' } });
    expect(escalations.map((t) => t.id)).toEqual(['INC-2']);

    clock.advance(minutes(30));
    await vi.waitFor(() => expect(reminders.map((t) => t.id)).toEqual(['INC-1', 'INC-3']));
    expect(await pump.poll()).toEqual({ taken: 0, handled: 0, failed: 0 });
    expect(escalations).toHaveLength(1);
  });

  it('logs a failing handler and an unknown kind, and goes on with the other timers', async () => {
    const clock = new ManualClock(START);
    coordination = createMemoryCoordination({ clock });
    const handled: string[] = [];
    const { logger, lines } = captureLogger();
    pump = startTimerLoop({
      coordination,
      clock,
      intervalMs: 60_000,
      logger,
      handlers: {
        ok: async (t) => {
          handled.push(t.id);
        },
        boom: async () => {
          throw new Error('Slack said channel_not_found');
        },
      },
    });
    await coordination.schedule(reminder('a', 0, clock, 'boom'));
    await coordination.schedule(reminder('b', 0, clock, 'ok'));
    await coordination.schedule(reminder('c', 0, clock, 'nobody-handles-this'));

    expect(await pump.poll()).toEqual({ taken: 3, handled: 1, failed: 2 });
    expect(handled).toEqual(['b']);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    const failure = errors.find((l) => l.timerId === 'a');
    expect(failure).toMatchObject({ timerKind: 'boom' });
    expect(JSON.stringify(failure)).toContain('channel_not_found');
    expect(errors.find((l) => l.timerId === 'c')?.msg).toContain(
      'no handler for timer kind nobody-handles-this',
    );
  });

  it('drains more than one batch per poll', async () => {
    const clock = new ManualClock(START);
    coordination = createMemoryCoordination({ clock });
    const seen: string[] = [];
    pump = startTimerLoop({
      coordination,
      clock,
      intervalMs: 60_000,
      batchSize: 3,
      logger: captureLogger().logger,
      handlers: {
        k: async (t) => {
          seen.push(t.id);
        },
      },
    });
    for (let i = 0; i < 8; i++) await coordination.schedule(reminder(`t${i}`, i, clock, 'k'));
    clock.advance(10);
    expect(await pump.poll()).toEqual({ taken: 8, handled: 8, failed: 0 });
    expect(seen).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
  });

  it('rejects poll() when the queue fails, and the background loop logs it and keeps going', async () => {
    const clock = new ManualClock(START);
    const broken = createMemoryCoordination({ clock });
    await broken.close();
    const { logger, lines } = captureLogger();
    pump = startTimerLoop({ coordination: broken, clock, intervalMs: 5, logger, handlers: {} });
    await expect(pump.poll()).rejects.toMatchObject({ name: 'CoordinationError', code: 'closed' });
    await vi.waitFor(() =>
      expect(
        lines.filter((l) => l.msg === 'polling due timers failed; trying again at the next interval').length,
      ).toBeGreaterThanOrEqual(2),
    );
  });

  it('stops polling on stop()', async () => {
    const clock = new ManualClock(START);
    coordination = createMemoryCoordination({ clock });
    const seen: string[] = [];
    pump = startTimerLoop({
      coordination,
      clock,
      intervalMs: 5,
      logger: captureLogger().logger,
      handlers: {
        k: async (t) => {
          seen.push(t.id);
        },
      },
    });
    await pump.stop();
    await coordination.schedule(reminder('late', 0, clock, 'k'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual([]);
    expect((await coordination.takeDue(clock.now(), 10)).map((t) => t.id)).toEqual(['late']);
  });

  it('refuses a non-positive interval', () => {
    const clock = new ManualClock(START);
    expect(() =>
      startTimerLoop({
        coordination: createMemoryCoordination({ clock }),
        clock,
        intervalMs: 0,
        handlers: {},
      }),
    ).toThrow(RangeError);
  });
});
