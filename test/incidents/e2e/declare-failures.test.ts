import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IncidentBot, startIncidentBot } from './helpers.ts';

describe('/incident declare when Slack refuses steps', () => {
  let bot: IncidentBot;
  beforeAll(async () => {
    bot = await startIncidentBot();
  });
  afterAll(async () => {
    await bot?.stop();
  });

  async function declared(answer: string) {
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await bot.runtime.services.repos.incidents.get(number);
    if (!incident) throw new Error(`no incident in: ${answer}`);
    return incident;
  }

  const nextNumber = async () =>
    (await bot.runtime.services.db.query<{ n: number }>('SELECT last_number + 1 AS n FROM incident_counter'))
      .rows[0]?.n;

  it('adds a suffix when the channel name is taken by a person, even one who invited the bot', async () => {
    const next = await nextNumber();
    bot.sim.workspace.addChannel({
      id: 'C_TAKEN',
      name: `inc-${next}-db-down`,
      isPrivate: false,
      members: ['U_BOB', 'U_RUNBOOK'],
      creator: 'U_BOB',
    });
    const incident = await declared(await bot.command('declare P0 DB down'));
    expect(incident.number).toBe(next);
    expect(bot.sim.workspace.channels.get(incident.channelId ?? '')?.name).toBe(`inc-${next}-db-down-2`);
  });

  it('adopts the channel the bot made under the incident name before a restart (no -2)', async () => {
    const next = await nextNumber();
    // What conversations.create left in Slack when the bot died before recording the channel.
    bot.sim.workspace.addChannel({ id: 'C_MADE', name: `inc-${next}-cache-cold`, members: ['U_RUNBOOK'] });
    const answer = await bot.command('declare P2 Cache cold');
    const incident = await declared(answer);
    expect(incident.channelId).toBe('C_MADE');
    expect(answer).toContain('Follow it in <#C_MADE>');
    expect(
      [...bot.sim.workspace.channels.values()].filter((c) => c.name.startsWith(`inc-${next}-`)),
    ).toHaveLength(1);
    const channel = bot.sim.workspace.channels.get('C_MADE');
    expect(channel?.members.has('U_ALICE')).toBe(true);
    expect(channel?.topic.value).toMatch(new RegExp(`^INC-${next} \\|`));
    expect(bot.sim.messagesIn('C_MADE').some((m) => m.pinned)).toBe(true);
  });

  it("does not adopt the bot's channel of another incident with that name (another INC in its topic)", async () => {
    const next = await nextNumber();
    bot.sim.workspace.addChannel({
      id: 'C_OLD',
      name: `inc-${next}-login-loop`,
      members: ['U_RUNBOOK'],
      topic: 'INC-999 | P1 | Resolved | Commander: <@U_BOB> | Login loop',
    });
    const incident = await declared(await bot.command('declare P2 Login loop'));
    expect(incident.channelId).not.toBe('C_OLD');
    expect(bot.sim.workspace.channels.get(incident.channelId ?? '')?.name).toBe(`inc-${next}-login-loop-2`);
  });

  it('keeps the incident (in the #incidents thread) and says so when conversations.create is refused', async () => {
    bot.sim.injectFault({ method: 'conversations.create', error: 'restricted_action' });
    const answer = await bot.command('declare P1 Payments failing');
    const incident = await declared(answer);
    expect(answer).toContain('could not create the incident channel (`restricted_action`');
    expect(incident.channelId).toBeNull();
    expect(incident.announcement?.channelId).toBe('C_INCIDENTS');
    expect(incident.headline).toEqual(incident.announcement);
  });

  it('declares once and tells the user what could not be done when Slack rate-limits during declare', async () => {
    const before = (await bot.runtime.services.repos.incidents.listOpen()).length;
    // More 429s than the client retries: the pin fails, everything else goes through.
    bot.sim.injectFault({ method: 'pins.add', retryAfterSeconds: 0, times: 3 });
    const answer = await bot.command('declare P2 Slow dashboards');
    const incident = await declared(answer);
    expect(answer).toContain('could not pin the headline');
    expect(answer).toContain('ratelimited');
    expect((await bot.runtime.services.repos.incidents.listOpen()).length).toBe(before + 1);
    expect(incident.channelId).not.toBeNull();
    expect(incident.headline).not.toBeNull();
  });

  it('a Slack retry of the same slash command does not declare twice', async () => {
    const since = bot.sim.responses.length;
    const first = await bot.slack.slashCommand({
      command: '/incident',
      text: 'declare P3 Typo on pricing page',
    });
    await bot.sim.waitForResponse({ since });
    await bot.slack.slashCommand({
      command: '/incident',
      text: 'declare P3 Typo on pricing page',
      triggerId: first.triggerId,
      responseUrl: first.responseUrl,
      retryNum: 1,
      // A retry is signed anew, later (a byte-identical repeat is dropped as a replay before any handler).
      timestamp: Number(first.requestHeaders['X-Slack-Request-Timestamp']) + 1,
    });
    const repeat = await bot.sim.waitForResponse({ since: since + 1 });
    expect(String(repeat.body.text)).toContain('already declared');
    const open = await bot.runtime.services.repos.incidents.listOpen();
    expect(open.filter((i) => i.title === 'Typo on pricing page')).toHaveLength(1);
  });
});
