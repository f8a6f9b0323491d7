import type { ManualClock } from '../../src/clock.ts';
import type { TestBot } from './bot.ts';

/**
 * Drives a bot's durable timers in virtual time: runs what is due, then moves the clock a step,
 * until `done()` (checked after each poll) or `maxSteps` steps. Health watch rounds, archive timers…
 */
export async function runTimersUntil(
  bot: Pick<TestBot, 'runtime'>,
  clock: ManualClock,
  options: { stepMs: number; done: () => boolean | Promise<boolean>; maxSteps?: number },
): Promise<void> {
  const maxSteps = options.maxSteps ?? 500;
  for (let step = 0; step < maxSteps; step++) {
    await bot.runtime.timers.poll();
    if (await options.done()) return;
    clock.advance(options.stepMs);
  }
  throw new Error(`runTimersUntil: not done after ${maxSteps} steps of ${options.stepMs} ms`);
}

/**
 * Waits until every running health watch has posted its message (and, in the same transaction,
 * scheduled its first round at the clock's now).
 */
export async function watchesOpened(bot: Pick<TestBot, 'runtime'>): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const running = await bot.runtime.services.healthWatches.running();
    if (running.every((w) => w.messageRef !== null)) return;
    if (Date.now() > deadline) throw new Error('watchesOpened: a watch never posted its message');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
