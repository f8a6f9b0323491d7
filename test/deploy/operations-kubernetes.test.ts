import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import {
  CANCEL_DEPLOY_ACTION,
  CONFIRM_DEPLOY_ACTION,
  ROLLBACK_TO_ACTION,
} from '../../src/slack/deploy/blocks/card.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';
import { type KubeSetup, startKubeSetup } from './helpers.ts';

/** restart, scale, maintenance, traffic, history and status on the Kubernetes fake, through Slack. */
describe('/deploy operations on Kubernetes, end to end', () => {
  let kube: KubeSetup;
  let bot: TestBot;

  beforeAll(async () => {
    kube = await startKubeSetup([
      'deploy: { windows: { production: [] }, verifyTimeout: 5s, settleTimeout: { kubernetes: 20s }, allowed: { production: [U_ALICE, S_SRE] } }',
    ]);
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: kube.configPath } });
  });
  afterAll(async () => {
    await bot?.stop();
    await kube?.close();
  });

  async function answer(text: string, userId = 'U_ALICE'): Promise<string> {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command: '/deploy', text, userId, channelId: 'C_GENERAL' });
    if (res.body) return String((res.json as { text: string }).text);
    const reply = await bot.sim.waitForResponse({ since });
    return String((reply.body as { text?: string }).text);
  }
  const newCard = (since: number) =>
    until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
  const settled = (card: SimMessage) =>
    until('the final line', () => {
      const m = bot.sim.messagesIn('C_GENERAL').find((x) => x.ts === card.ts);
      return m &&
        !JSON.stringify(m.blocks).includes('running') &&
        !JSON.stringify(m.blocks).includes('verifying') &&
        !JSON.stringify(m.blocks).includes(CONFIRM_DEPLOY_ACTION)
        ? m
        : undefined;
    });
  async function confirmed(text: string): Promise<SimMessage> {
    const since = bot.sim.messagesIn('C_GENERAL').length;
    expect(await answer(text)).toContain('only you can confirm');
    const card = await newCard(since);
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
    return settled(card);
  }

  it('help lists exactly the subcommands that exist', async () => {
    const text = await answer('help');
    for (const sub of [
      'status',
      'history',
      'rollback',
      'restart',
      'scale',
      'maintenance',
      'traffic',
      'health',
      'audit',
    ]) {
      expect(text).toContain(sub);
    }
  });

  it('refuses someone not in deploy.allowed.<env>, naming who may', async () => {
    const text = await answer('restart barq-api', 'U_BOB');
    expect(text).toContain('Only <@U_ALICE>, <!subteam^S_SRE> may run deploy operations in production');
  });

  it('refuses a scale outside the bounds, with the bounds, and changes nothing', async () => {
    expect(await answer('scale barq-api 9')).toContain('may run 1 to 5 replicas');
    expect(await answer('scale barq-api')).toContain('Usage: `/deploy scale');
  });

  it('says traffic splitting is not supported on Kubernetes and what to do instead', async () => {
    const text = await answer('traffic barq-api 1=50 2=50');
    expect(text).toContain('not supported');
    expect(text).toContain('/deploy rollback');
  });

  it('an unknown service gets the list and a did-you-mean', async () => {
    const text = await answer('restart barq-apx');
    expect(text).toContain('There is no service "barq-apx"');
    expect(text).toContain('`/deploy restart barq-api`');
  });

  it('scales, restarts and switches maintenance after confirmation', async () => {
    expect(await answer('scale barq-api 2')).toContain('already runs 2 replicas');
    expect((await confirmed('scale barq-api 3')).text).toContain('scaled from 2 to 3 replicas');
    expect((await confirmed('restart barq-api')).text).toContain('barq-api restarted');
    const on = await confirmed('maintenance barq-api on because database migration');
    expect(on.text).toContain('maintenance turned on');
    expect(JSON.stringify(on.blocks)).toContain('maintenance off → on');
    expect(await answer('status barq-api')).toContain('Last operations: maintenance succeeded');
  });

  it('history lists revisions newest first; "Roll back to this" opens the same card; Cancel cancels it', async () => {
    const since = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'history barq-api',
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    const reply = await bot.sim.waitForResponse({ since });
    const text = String((reply.body as { text?: string }).text);
    expect(text).toMatch(/revisions:\n.*current/);
    expect(text).toContain('registry.example.com/app:v1');
    const cards = bot.sim.messagesIn('C_GENERAL').length;
    const ephemeral = bot.sim.ephemeralsFor('U_ALICE').at(-1);
    expect(JSON.stringify(ephemeral)).toContain(ROLLBACK_TO_ACTION);
    await bot.slack.clickButton({
      actionId: ROLLBACK_TO_ACTION,
      value: 'barq-api/production/1',
      userId: 'U_ALICE',
    });
    const card = await newCard(cards);
    expect(JSON.stringify(card.blocks)).toContain('the revision asked for');
    await bot.slack.clickButton({ message: card, actionId: CANCEL_DEPLOY_ACTION, userId: 'U_ALICE' });
    const done = await settled(card);
    expect(done.text).toContain('cancelled by <@U_ALICE>; nothing was changed');
  });
});
