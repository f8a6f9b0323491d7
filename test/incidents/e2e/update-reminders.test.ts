/**
 * Update reminders in virtual time: when the next update is due the commander is nudged in the
 * channel with a "Post update" button (which opens the update form), overdue by incidents.updateGrace
 * the communications lead is told too, and an update resets the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { eventually, type IncidentBot, startIncidentBot } from './helpers.ts';

const MINUTE = 60_000;

describe('update reminders', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let bot: IncidentBot;
  beforeAll(async () => {
    bot = await startIncidentBot('organisation: Test\nincidents:\n  updateGrace: 5m\n', {}, { clock });
  });
  afterAll(async () => {
    await bot?.stop();
  });

  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await bot.runtime.timers.poll();
  }

  it('nudges the commander when due, tells the communications lead when overdue, and updates reset it', async () => {
    const answer = await bot.command('declare P1 Checkout slow');
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await eventually(async () => {
      const found = await bot.runtime.services.repos.incidents.get(number);
      if (!found?.channelId || !found.headline) throw new Error(`not set up: ${answer}`);
      return found;
    });
    const channel = incident.channelId ?? '';
    expect(await bot.command('role <@U_BOB> communications lead', { channelId: channel })).toContain(
      'communications lead',
    );
    // The due time is on the headline.
    const headline = bot.sim.workspace.findMessage(channel, incident.headline?.ts ?? '');
    expect(JSON.stringify(headline?.blocks)).toContain('Next update due');
    const reminders = () => bot.sim.messagesIn(channel).filter((m) => m.text.includes('next update of'));
    const overdue = () => bot.sim.messagesIn(channel).filter((m) => m.text.includes('overdue'));

    // P1: an update every 15 minutes; not a second early.
    await advance(15 * MINUTE - 1_000);
    expect(reminders()).toEqual([]);
    await advance(1_000);
    expect(reminders().map((m) => m.text)).toEqual([
      `:memo: <@U_ALICE>: the next update of INC-${number} is due now.`,
    ]);
    expect(overdue()).toEqual([]);

    // Its button opens the update form.
    const since = bot.sim.calls.length;
    const nudge = reminders()[0];
    if (!nudge) throw new Error('no reminder');
    await bot.slack.clickButton({ message: nudge, actionId: 'incident_post_update', userId: 'U_ALICE' });
    const opened = await bot.sim.waitForCall('views.open', { since });
    expect(opened.response.ok).toBe(true);

    // Overdue by the grace: the communications lead is told too.
    await advance(5 * MINUTE - 1_000);
    expect(overdue()).toEqual([]);
    await advance(1_000);
    expect(overdue().map((m) => m.text)).toEqual([
      `:warning: <@U_ALICE>, <@U_BOB> (communications lead): the update of INC-${number} is 5m overdue. Please post one.`,
    ]);
    const recorded = await bot.runtime.services.repos.timeline.listOfKind(number, 'reminder');
    expect(recorded.map((e) => e.data.overdue)).toEqual([false, true]);

    // The update posted from the form resets the clock (next one in 15 minutes, the form's default).
    await bot.slack.submitView({
      viewId: String((opened.response.view as { id: string }).id),
      values: { status: { status: 'identified' }, impact: { impact: 'Slow checkouts' } },
    });
    await eventually(async () =>
      expect((await bot.runtime.services.repos.incidents.get(number))?.status).toBe('identified'),
    );
    const due = await bot.runtime.services.repos.timers.get(`incident-update-due:${number}`);
    expect(due?.dueAt.toISOString()).toBe(new Date(clock.now().getTime() + 15 * MINUTE).toISOString());
    await advance(15 * MINUTE - 1_000);
    expect(reminders()).toHaveLength(1);
    await advance(1_000);
    expect(reminders()).toHaveLength(2);
    // Still no update: overdue again, the communications lead told again.
    await advance(5 * MINUTE);
    expect(overdue()).toHaveLength(2);
  });
});
