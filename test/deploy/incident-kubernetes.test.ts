import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimMessage } from '../../src/local/slack/workspace.ts';
import {
  CONFIRM_DEPLOY_ACTION,
  DECLARE_FROM_DEPLOY_ACTION,
  ROLLBACK_FURTHER_ACTION,
  ROLLBACK_TO_ACTION,
} from '../../src/slack/deploy/blocks/card.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { until } from '../helpers/until.ts';
import { type KubeSetup, NO_APPROVALS_YAML, startKubeSetup } from './helpers.ts';

/**
 * /deploy and incidents, end to end on the Kubernetes fake: an operation asked in an incident channel
 * (or naming INC-n) is linked to it, on its timeline and its headline.
 */
describe('/deploy operations for an incident, end to end', () => {
  let kube: KubeSetup;
  let bot: TestBot;
  let health: Server;
  const healthy = { now: true };

  beforeAll(async () => {
    health = createServer((_req, res) => {
      res.writeHead(healthy.now ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy.now ? 'healthy' : 'unhealthy' }));
    });
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    const port = (health.address() as AddressInfo).port;
    kube = await startKubeSetup();
    const config = join(kube.dir, 'incident-runbook.yml');
    writeFileSync(
      config,
      [
        'services:',
        kube.serviceYaml,
        `    healthChecks: [{ type: http, name: api, url: "http://127.0.0.1:${port}/health", timeout: 1s }]`,
        NO_APPROVALS_YAML,
        'deploy: { windows: { production: [] }, verifyTimeout: 2s, settleTimeout: { kubernetes: 20s } }',
        '',
      ].join('\n'),
    );
    bot = await startTestBot({ env: { RUNBOOK_CONFIG: config } });
  });

  afterAll(async () => {
    await bot?.stop();
    await kube?.close();
    await new Promise((resolve) => health?.close(resolve));
  });

  async function command(command: string, text: string, channelId: string): Promise<string> {
    const since = bot.sim.responses.length;
    const res = await bot.slack.slashCommand({ command, text, userId: 'U_ALICE', channelId });
    const inAck = (res.json as { text?: unknown } | undefined)?.text;
    if (typeof inAck === 'string') return inAck;
    const reply = await bot.sim.waitForResponse({ since });
    return String((reply.body as { text?: string }).text);
  }
  const cardIn = (channel: string, since: number): Promise<SimMessage> =>
    until('the card', () =>
      bot.sim
        .messagesIn(channel)
        .slice(since)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(CONFIRM_DEPLOY_ACTION)),
    );
  const finished = (card: SimMessage): Promise<SimMessage> =>
    until('the final line', () => {
      const m = bot.sim.messagesIn(card.channel).find((x) => x.ts === card.ts);
      return m && (m.text.includes('verified healthy') || m.text.includes('could not')) ? m : undefined;
    });
  async function declare(title: string) {
    const answer = await command('/incident', `declare P1 ${title}`, 'C_INCIDENTS');
    const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
    const incident = await until('the incident set up', async () => {
      const found = await bot.runtime.services.repos.incidents.get(number);
      return found?.headline && found.channelId ? found : undefined;
    });
    return incident;
  }
  const headlineOf = async (number: number) => {
    const incident = await bot.runtime.services.repos.incidents.get(number);
    const message = bot.sim
      .messagesIn(incident?.channelId ?? '')
      .find((m) => m.ts === incident?.headline?.ts);
    return JSON.stringify(message?.blocks ?? []);
  };

  it('asked in the incident channel: linked, reason prefilled, on the timeline in step, mitigation on the headline', async () => {
    healthy.now = true;
    const incident = await declare('Checkout returns 500s');
    const channel = incident.channelId ?? '';
    const since = bot.sim.messagesIn(channel).length;
    expect(await command('/deploy', 'rollback barq-api', channel)).toContain('only you can confirm');
    const card = await cardIn(channel, since);
    expect(JSON.stringify(card.blocks)).toContain(`*Why:* INC-${incident.number}: Checkout returns 500s`);
    const requested = await bot.runtime.services.repos.operations.listRecent({
      service: 'barq-api',
      limit: 1,
    });
    expect(requested[0]?.incidentNumber).toBe(incident.number);

    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
    expect((await finished(card)).text).toContain('verified healthy');

    const operation = requested[0];
    const events = await until('the timeline', async () => {
      const all = await bot.runtime.services.repos.timeline.list(incident.number);
      const deploy = all.filter((e) => e.kind === 'deploy_action');
      return deploy.length >= 4 ? deploy : undefined;
    });
    expect(events.map((e) => e.data.event)).toEqual(['requested', 'started', 'verifying', 'succeeded']);
    expect(events[0]?.actor).toBe('U_ALICE');
    expect(events[1]?.text).toContain('Confirmed the rollback of barq-api (production): revision 2 → 1');
    expect(events[3]?.text).toContain('Verified: rolled back barq-api to 1');
    // Each event was written with its audit row: same operation, same transitions.
    const audit = await bot.runtime.services.repos.audit.list({ operationId: operation?.id ?? '' });
    expect(audit.map((a) => a.outcome).reverse()).toEqual(['requested', 'started', 'verifying', 'succeeded']);
    for (const [i, e] of events.entries()) expect(e.at.getTime()).toBe(audit.at(-1 - i)?.at.getTime());
    // The successful operation is the incident's mitigation (time to mitigate), recorded with it.
    const mitigated = await bot.runtime.services.repos.incidents.get(incident.number);
    expect(mitigated?.mitigatedAt?.getTime()).toBe(events[3]?.at.getTime());

    const headline = await until('the mitigation on the headline', async () => {
      const text = await headlineOf(incident.number);
      return text.includes('Mitigation') ? text : undefined;
    });
    expect(headline).toMatch(/\*Mitigation:\* rolled back barq-api to 1 at <!date\^\d+\^/);
  });

  it('naming INC-n from another channel links it too; an unknown INC-n is refused and changes nothing', async () => {
    const incident = await declare('Search is slow');
    const since = bot.sim.messagesIn('C_GENERAL').length;
    expect(await command('/deploy', `restart barq-api INC-${incident.number}`, 'C_GENERAL')).toContain(
      'only you can confirm',
    );
    const card = await cardIn('C_GENERAL', since);
    expect(JSON.stringify(card.blocks)).toContain(`INC-${incident.number}: Search is slow`);
    const [op] = await bot.runtime.services.repos.operations.listRecent({ service: 'barq-api', limit: 1 });
    expect(op?.incidentNumber).toBe(incident.number);
    const events = await bot.runtime.services.repos.timeline.list(incident.number);
    expect(events.filter((e) => e.kind === 'deploy_action').map((e) => e.data.event)).toEqual(['requested']);
    await bot.slack.clickButton({ message: card, actionId: 'deploy_cancel', userId: 'U_ALICE' });
    await until('cancelled', async () => {
      const found = await bot.runtime.services.repos.operations.get(op?.id ?? '');
      return found?.state === 'cancelled' ? found : undefined;
    });

    const before = (await bot.runtime.services.repos.operations.listRecent({ limit: 100 })).length;
    expect(await command('/deploy', 'restart barq-api INC-99999', 'C_GENERAL')).toContain(
      'There is no incident INC-99999',
    );
    expect((await bot.runtime.services.repos.operations.listRecent({ limit: 100 })).length).toBe(before);
  });

  it('a failed verification offers "Declare incident": the modal opens first, prefilled; the incident shows the recent changes with a rollback button', async () => {
    healthy.now = false;
    const since = bot.sim.messagesIn('C_GENERAL').length;
    await command('/deploy', 'rollback barq-api', 'C_GENERAL');
    const card = await cardIn('C_GENERAL', since);
    await bot.slack.clickButton({ message: card, actionId: CONFIRM_DEPLOY_ACTION, userId: 'U_ALICE' });
    const failed = await finished(card);
    expect(failed.text).toContain('could not roll back');
    const blocks = JSON.stringify(failed.blocks);
    expect(blocks).toContain(ROLLBACK_FURTHER_ACTION);
    expect(blocks).toContain(DECLARE_FROM_DEPLOY_ACTION);
    const [op] = await bot.runtime.services.repos.operations.listRecent({ service: 'barq-api', limit: 1 });
    const to = String(op?.params.toRevision);

    // The outcome reaches the #deployments thread: nothing else is left for the bot to say.
    await until('the outcome in #deployments', () =>
      bot.sim
        .messagesIn('C_DEPLOYMENTS')
        .find(
          (m) => m.text.includes(`could not roll back`) && m.threadTs !== undefined && m.threadTs !== m.ts,
        )
        ? true
        : undefined,
    );
    const calls = bot.sim.calls.length;
    await bot.slack.clickButton({ message: failed, actionId: DECLARE_FROM_DEPLOY_ACTION, userId: 'U_BOB' });
    const opened = await bot.sim.waitForCall('views.open', { since: calls });
    // The modal is the first thing the click does (the trigger id lasts 3 s).
    expect(bot.sim.calls.slice(calls)[0]?.method).toBe('views.open');
    const view = JSON.stringify(opened.args.view);
    expect(view).toContain(`barq-api: rollback to ${to} failed verification`);
    const element = (block: string) =>
      (
        opened.args.view as { blocks: { block_id?: string; element?: Record<string, unknown> }[] }
      ).blocks.find((b) => b.block_id === block)?.element;
    expect((element('severity')?.initial_option as { value?: string })?.value).toBe('P1');
    expect(((element('services')?.initial_options ?? []) as { value: string }[]).map((o) => o.value)).toEqual(
      ['barq-api'],
    );
    expect(view).toContain('api: unhealthy');

    // Submitted as prefilled: the incident has them, and shows what changed before it.
    healthy.now = true;
    const viewId = String((opened.response.view as { id: string }).id);
    await bot.slack.submitView({ viewId, userId: 'U_BOB', values: {} });
    const incident = await until('the declared incident', async () => {
      const open = await bot.runtime.services.repos.incidents.listOpen();
      const found = open.find((i) => i.title === `barq-api: rollback to ${to} failed verification`);
      return found?.headline ? found : undefined;
    });
    expect(incident.severity).toBe('P1');
    expect(incident.affectedServices).toEqual(['barq-api']);
    expect(incident.summary).toContain('api: unhealthy');
    const headline = await until('the recent changes on the headline', async () => {
      const text = await headlineOf(incident.number);
      return text.includes('Changed in the 24 h before') ? text : undefined;
    });
    expect(headline).toContain(
      `rollback by the bot: revision ${String(op?.params.fromRevision)} → ${to} (failed)`,
    );
    expect(headline).toContain('new revision');
    expect(headline).toContain(ROLLBACK_TO_ACTION);
    const good = /Roll back barq-api to (\d+)/.exec(headline)?.[1];
    expect(good).toBeDefined();
    expect(good).not.toBe(to);
    const events = await bot.runtime.services.repos.timeline.list(incident.number);
    expect(events.some((e) => e.data.event === 'recent_changes')).toBe(true);

    // One click: the confirmation card, in the incident channel, for the incident.
    const channel = incident.channelId ?? '';
    const message = bot.sim.messagesIn(channel).find((m) => m.ts === incident.headline?.ts);
    if (!message) throw new Error('no headline');
    const before = bot.sim.messagesIn(channel).length;
    await bot.slack.clickButton({ message, actionId: ROLLBACK_TO_ACTION, userId: 'U_ALICE' });
    const next = await cardIn(channel, before);
    expect(JSON.stringify(next.blocks)).toContain(`→ \`${good}\``);
    const [asked] = await bot.runtime.services.repos.operations.listRecent({ service: 'barq-api', limit: 1 });
    expect(asked?.incidentNumber).toBe(incident.number);
    expect(asked?.params.toRevision).toBe(good);
    expect(asked?.reason).toBe(`INC-${incident.number}: ${incident.title}`);
  });
});
