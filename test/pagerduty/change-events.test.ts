/**
 * A /deploy operation on the Kubernetes fake that finishes sends a PagerDuty Change Event: recorded
 * in the transaction that finished it, sent from the outbox by the timer loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import { CONFIRM_DEPLOY_ACTION } from '../../src/slack/deploy/blocks/card.ts';
import { type KubeSetup, startKubeSetup } from '../deploy/helpers.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';
import { type PagerDutyFake, startPagerDutyFake } from './fake.ts';

const CHANGE_KEY = 'CHANGEKEY0123456789ABCDEFGHIJKLM';

describe('PagerDuty Change Events of /deploy operations', () => {
  let fake: PagerDutyFake;
  let kube: KubeSetup;
  let bot: TestBot;

  beforeAll(async () => {
    fake = await startPagerDutyFake();
    kube = await startKubeSetup([
      'deploy: { verifyTimeout: 5s, settleTimeout: { kubernetes: 20s }, windows: { production: [] } }',
      'pagerduty:',
      `  endpoint: "${fake.url}"`,
      '  changeEvents: "${env:PD_CHANGE_KEY}"',
      '  source: runbook-test',
    ]);
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: kube.configPath, PD_CHANGE_KEY: CHANGE_KEY } });
  });
  afterAll(async () => {
    await bot?.stop();
    await kube?.close();
    await fake?.close();
  });

  async function confirmed(text: string): Promise<SimMessage> {
    const since = bot.sim.messagesIn('C_GENERAL').length;
    await bot.slack.slashCommand({ command: '/deploy', text, userId: 'U_ALICE', channelId: 'C_GENERAL' });
    const card = await until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
    return card;
  }

  it('sends one change event after a restart succeeded, linking the #deployments thread', async () => {
    await confirmed('restart barq-api because stuck workers');
    const op = await until('the operation to finish', async () => {
      const [latest] = await bot.runtime.services.repos.operations.listRecent({
        service: 'barq-api',
        environment: 'production',
        limit: 1,
      });
      return latest && (latest.state === 'succeeded' || latest.state === 'failed') ? latest : undefined;
    });
    expect(op.state).toBe('succeeded');
    const request = await until('the change event', () => fake.accepted('change')[0]);
    expect(request.body).toMatchObject({
      routing_key: CHANGE_KEY,
      payload: {
        summary: 'restart barq-api production by @U_ALICE: succeeded',
        source: 'runbook-test',
        custom_details: {
          operation: op.id,
          kind: 'restart',
          service: 'barq-api',
          environment: 'production',
          outcome: 'succeeded',
          requestedBy: 'U_ALICE',
          confirmedBy: 'U_ALICE',
          reason: 'stuck workers',
        },
      },
    });
    const payload = request.body?.payload as { timestamp?: string } | undefined;
    const timestamp = payload?.timestamp;
    expect(timestamp).toBe(op.finishedAt?.toISOString());
    expect(op.noticeChannelId && op.noticeTs).toBeTruthy();
    expect(request.body?.links).toEqual([
      {
        href: `https://slack.com/archives/${op.noticeChannelId}/p${op.noticeTs?.replace('.', '')}`,
        text: '#deployments thread',
      },
    ]);
    const page = await until('the page recorded as sent', async () => {
      const [first] = await bot.runtime.services.repos.pagerduty.list({ incidentNumber: null });
      return first?.state === 'sent' ? first : undefined;
    });
    expect(page).toMatchObject({
      kind: 'change',
      state: 'sent',
      attempts: 1,
      idempotencyKey: `deploy:${op.id}:succeeded`,
    });
    await new Promise((r) => setTimeout(r, 1_200));
    expect(fake.requests).toHaveLength(1);
  });

  async function finished(after: Set<string>) {
    return until('the operation to finish', async () => {
      const [latest] = await bot.runtime.services.repos.operations.listRecent({
        service: 'barq-api',
        environment: 'production',
        limit: 1,
      });
      return latest && !after.has(latest.id) && (latest.state === 'succeeded' || latest.state === 'failed')
        ? latest
        : undefined;
    });
  }
  const summaries = () =>
    fake.accepted('change').map((r) => (r.body?.payload as { summary?: string } | undefined)?.summary);

  it('sends one for a rollback, and one for an operation that failed', async () => {
    const seen = new Set(
      (await bot.runtime.services.repos.operations.listRecent({ limit: 50 })).map((o) => o.id),
    );
    await confirmed('rollback barq-api');
    const rollback = await finished(seen);
    seen.add(rollback.id);
    expect(rollback.state).toBe('succeeded');
    const to = String(rollback.params.toRevision);
    await until('the rollback change event', () =>
      summaries().includes(`rollback barq-api production to ${to} by @U_ALICE: succeeded`) ? true : undefined,
    );

    const since = bot.sim.messagesIn('C_GENERAL').length;
    await bot.slack.slashCommand({
      command: '/deploy',
      text: 'scale barq-api 3',
      userId: 'U_ALICE',
      channelId: 'C_GENERAL',
    });
    const card = await until('the card', () =>
      bot.sim
        .messagesIn('C_GENERAL')
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
    kube.fake.failNext(500, 20);
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
    const scale = await finished(seen);
    expect(scale.state).toBe('failed');
    const request = await until('the failed change event', () =>
      fake.accepted('change').find((r) => JSON.stringify(r.body).includes(scale.id)),
    );
    const failed = request.body?.payload as
      | { summary?: string; custom_details?: { error?: string } }
      | undefined;
    expect(failed?.summary).toBe('scale barq-api production to 3 replicas by @U_ALICE: failed');
    expect(failed?.custom_details?.error).toBeTruthy();
  });
});
