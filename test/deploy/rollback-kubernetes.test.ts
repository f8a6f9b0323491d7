import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import { CANCEL_DEPLOY_ACTION, CONFIRM_DEPLOY_ACTION } from '../../src/slack/deploy/blocks/card.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';
import { type KubeSetup, patchCount, startKubeSetup } from './helpers.ts';

/** `/deploy rollback` end to end: the real bot (two replicas), the Slack simulator, the Kubernetes fake. */
describe('/deploy rollback on Kubernetes, end to end', () => {
  let kube: KubeSetup;
  let bot: TestBot;
  let replica: TestBot;

  beforeAll(async () => {
    kube = await startKubeSetup([
      'deploy: { windows: { production: [] }, verifyTimeout: 5s, settleTimeout: { kubernetes: 20s } }',
    ]);
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: kube.configPath } });
    replica = await startTestBot({ replicaOf: bot, env: { RUNBOOK_CONFIG: kube.configPath } });
  });

  afterAll(async () => {
    await replica?.stop();
    await bot?.stop();
    await kube?.close();
  });

  const cardIn = (channel: string, since: number): SimMessage | undefined =>
    bot.sim
      .messagesIn(channel)
      .slice(since)
      .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION));
  const current = (m: SimMessage) => bot.sim.messagesIn(m.channel).find((x) => x.ts === m.ts) ?? m;
  const ephemeral = async (since: number) => {
    const reply = await bot.sim.waitForResponse({ since });
    return String((reply.body as { text?: string }).text);
  };

  it('posts a card; only the requester confirms; a double Confirm on two replicas runs once; the card ends in one line', async () => {
    const since = bot.sim.messagesIn('C_GENERAL').length;
    const responses = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({
      command: '/deploy',
      text: 'rollback barq-api because errors after v2',
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    expect(res.withinAckDeadline).toBe(true);
    expect(await ephemeral(responses)).toContain('only you can confirm');
    const card = await until('the card', () => cardIn('C_GENERAL', since));
    expect(card.text).toContain('roll back barq-api');
    const body = JSON.stringify(card.blocks);
    expect(body).toContain('`2` (`registry.example.com/app:v2`) → `1` (`registry.example.com/app:v1`)');
    expect(body).toContain('the newest revision before the current one');
    expect(body).toContain('errors after v2');
    expect(body).toContain('<@U_ALICE>');

    // Someone else's Confirm (a forged click too) changes nothing.
    const before = patchCount(kube.fake);
    const refused = bot.sim.responses.length;
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_BOB' });
    expect(await ephemeral(refused)).toContain('Only <@U_ALICE>, who asked for it, can confirm');
    const refusedCancel = bot.sim.responses.length;
    await bot.slack.clickButton({ message: card, actionId: CANCEL_DEPLOY_ACTION, userId: 'U_BOB' });
    expect(await ephemeral(refusedCancel)).toContain('can cancel this operation');
    expect(patchCount(kube.fake)).toBe(before);

    // A second request while this one is pending is told who holds it.
    const busy = bot.sim.responses.length;
    await bot.slack.slashCommand({ command: '/deploy', text: 'rollback barq-api', userId: 'U_BOB' });
    expect(await ephemeral(busy)).toMatch(/<@U_ALICE> holds barq-api \(production\): a rollback, requested/);

    await Promise.all([
      bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' }),
      replica.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' }),
    ]);
    const done = await until('the final line', () => {
      const m = current(card);
      return m.text.includes('verified healthy') || m.text.includes('could not') ? m : undefined;
    });
    expect(done.text).toMatch(/barq-api rolled back from `2` to `1` in \d+ s; verified healthy/);
    expect(JSON.stringify(done.blocks)).toContain('Confirmed by:* <@U_ALICE>');
    expect(JSON.stringify(done.blocks)).not.toContain(CONFIRM_DEPLOY_ACTION);
    expect(patchCount(kube.fake) - before).toBe(1);

    // #deployments: start and outcome in one thread.
    const root = await until('the #deployments post', () =>
      bot.sim.messagesIn('C_DEPLOYMENTS', { topLevelOnly: true }).find((m) => m.text.includes('barq-api')),
    );
    expect(root.text).toContain('rollback started by <@U_ALICE>');
    const thread = await until('the outcome in the thread', () => {
      const t = bot.sim.thread('C_DEPLOYMENTS', root.ts);
      return t.length > 1 ? t : undefined;
    });
    expect(thread[1]?.text).toContain('verified healthy');
  });
});
