/**
 * The PagerDuty outbox sent by the bot's durable timers, in virtual time, against the in-process
 * PagerDuty: the documented request once; 429 and 5xx retried `retry.delay` apart and recorded,
 * then given up and the commander told; 400 never retried and the commander told with PagerDuty's
 * errors; an incident's pages in order; two replicas sending each page once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { PagerDutyAction } from '../../src/pagerduty/pagerduty.ts';
import { PagerDutyEventRepository, type StoredPage } from '../../src/store/repositories/pagerduty.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { eventually } from '../helpers/until.ts';
import { type PagerDutyFake, startPagerDutyFake } from './fake.ts';

const ROUTING_KEY = 'R0UT1NGKEY0123456789ABCDEFGHIJKL';
const env = { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PD_BAD_KEY: 'not-32-characters' };

describe('sending pages to PagerDuty', () => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  let fake: PagerDutyFake;
  let dir: string;
  let bot: TestBot;
  let replica: TestBot;
  let seq = 0;

  beforeAll(async () => {
    fake = await startPagerDutyFake();
    dir = mkdtempSync(join(tmpdir(), 'pagerduty-'));
    const config = join(dir, 'runbook.yml');
    writeFileSync(
      config,
      [
        'organisation: Test',
        'pagerduty:',
        `  endpoint: "${fake.url}"`,
        '  routingKey: "${env:PAGERDUTY_ROUTING_KEY}"',
        '  retry: { attempts: 3, delay: 30s }',
        '',
      ].join('\n'),
    );
    bot = await startTestBot({ clock, env: { ...env, RUNBOOK_CONFIG: config } });
    replica = await startTestBot({ clock, replicaOf: bot, env: { ...env, RUNBOOK_CONFIG: config } });
  });
  afterAll(async () => {
    await replica?.stop();
    await bot?.stop();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Polls both replicas (their own loops poll too, every 500 ms of real time) until two rounds in a
   * row take nothing: each poll waits for its replica's poll in flight, so the work of both is done.
   */
  async function drain(): Promise<void> {
    let idle = 0;
    for (let i = 0; i < 40 && idle < 2; i++) {
      const results = await Promise.all([bot.runtime.timers.poll(), replica.runtime.timers.poll()]);
      idle = results.every((r) => r.taken === 0) ? idle + 1 : 0;
    }
    if (idle < 2) throw new Error('timers kept coming due');
  }

  async function declare(title: string): Promise<{ number: number; channelId: string }> {
    const since = bot.sim.responses.length;
    await bot.slack.slashCommand({
      command: '/incident',
      text: `declare P1 ${title}`,
      userId: 'U_ALICE',
      channelId: 'C_INCIDENTS',
    });
    const response = await bot.sim.waitForResponse({ since });
    const number = Number(/INC-(\d+)/.exec(String(response.body.text))?.[1]);
    const incident = await eventually(async () => {
      const found = await bot.runtime.services.repos.incidents.get(number);
      if (!found?.channelId || !found.headline) throw new Error('not set up yet');
      return found;
    });
    return { number, channelId: incident.channelId! };
  }

  async function enqueue(
    number: number | null,
    action: PagerDutyAction,
    routingKeyRef = '${env:PAGERDUTY_ROUTING_KEY}',
  ) {
    const dedupKey = `runbook-test-inc-${number}`;
    const ok = await bot.runtime.services.repos.pagerduty.enqueue({
      idempotencyKey: `test:${number}:${action}:${seq++}`,
      incidentNumber: number,
      kind: 'alert',
      routingKeyRef,
      event: {
        action,
        dedupKey,
        ...(action === 'trigger'
          ? {
              payload: {
                summary: `INC-${number} P1: Checkout returns 500s`,
                source: 'runbook-bot',
                severity: 'error' as const,
                timestamp: clock.now(),
                customDetails: { incident: `INC-${number}` },
              },
            }
          : {}),
        links: [{ href: 'https://slack.com/archives/C_X', text: `INC-${number} in Slack` }],
      },
    });
    expect(ok).toBe(true);
    return dedupKey;
  }

  const pagesOf = (number: number | null): Promise<StoredPage[]> =>
    bot.runtime.services.repos.pagerduty.list({ incidentNumber: number });
  const sentFor = (dedupKey: string) => fake.requests.filter((r) => r.body?.dedup_key === dedupKey);

  it('sends a trigger once, in the documented shape, and records it as sent with the dedup key', async () => {
    const { number } = await declare('Checkout returns 500s');
    const dedupKey = await enqueue(number, 'trigger');
    await drain();
    await drain();
    const requests = sentFor(dedupKey);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.status).toBe(202);
    expect(requests[0]?.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: dedupKey,
      payload: {
        summary: `INC-${number} P1: Checkout returns 500s`,
        source: 'runbook-bot',
        severity: 'error',
        timestamp: clock.now().toISOString(),
        custom_details: { incident: `INC-${number}` },
      },
      links: [{ href: 'https://slack.com/archives/C_X', text: `INC-${number} in Slack` }],
      client: 'Test',
    });
    const [page] = await pagesOf(number);
    expect(page).toMatchObject({ state: 'sent', attempts: 1, lastStatus: 202, dedupKey, lastError: null });
    expect(page?.sentAt?.toISOString()).toBe(clock.now().toISOString());
    expect(await bot.runtime.services.repos.timers.list({ kind: 'pagerduty.send' })).toEqual([]);
  });

  it('retries a 429 thirty seconds later (not before), recorded in the row', async () => {
    const { number } = await declare('Search is slow');
    fake.failNext(429);
    const dedupKey = await enqueue(number, 'trigger');
    await drain();
    expect(sentFor(dedupKey)).toHaveLength(1);
    expect((await pagesOf(number))[0]).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 429 });
    expect((await pagesOf(number))[0]?.lastError).toContain('arriving too quickly');
    clock.advance(29_999);
    await drain();
    expect(sentFor(dedupKey)).toHaveLength(1);
    clock.advance(1);
    await drain();
    expect(sentFor(dedupKey).map((r) => r.status)).toEqual([429, 202]);
    expect((await pagesOf(number))[0]).toMatchObject({
      state: 'sent',
      attempts: 2,
      lastStatus: 202,
      lastError: null,
    });
  });

  it('gives up after the configured attempts on 500s, and tells the commander', async () => {
    const { number, channelId } = await declare('Payments down');
    fake.failNext(500, 3);
    const dedupKey = await enqueue(number, 'trigger');
    await drain();
    clock.advance(30_000);
    await drain();
    expect((await pagesOf(number))[0]).toMatchObject({ state: 'pending', attempts: 2, lastStatus: 500 });
    clock.advance(59_999);
    await drain();
    expect(sentFor(dedupKey)).toHaveLength(2);
    clock.advance(1);
    await drain();
    expect(sentFor(dedupKey).map((r) => r.status)).toEqual([500, 500, 500]);
    expect((await pagesOf(number))[0]).toMatchObject({ state: 'failed', attempts: 3, lastStatus: 500 });
    const told = await eventually(() => {
      const m = bot.sim.messagesIn(channelId).find((x) => x.text?.includes('could not be sent to PagerDuty'));
      if (!m) throw new Error('not told');
      return m;
    });
    expect(told.text).toContain('<@U_ALICE>');
    expect(told.text).toContain(`*trigger* page of INC-${number}`);
    expect(told.text).toContain('tried 3 times; last: HTTP 500');
    clock.advance(10 * 60_000);
    await drain();
    expect(sentFor(dedupKey)).toHaveLength(3);
  });

  it('does not retry a 400 and shows the commander PagerDuty’s errors', async () => {
    const { number, channelId } = await declare('Login fails');
    const dedupKey = await enqueue(number, 'trigger', '${env:PD_BAD_KEY}');
    await drain();
    expect(sentFor(dedupKey).map((r) => r.status)).toEqual([400]);
    const [page] = await pagesOf(number);
    expect(page).toMatchObject({ state: 'rejected', attempts: 1, lastStatus: 400 });
    expect(page?.lastError).toBe(
      "Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)",
    );
    const told = await eventually(() => {
      const m = bot.sim.messagesIn(channelId).find((x) => x.text?.includes('PagerDuty refused'));
      if (!m) throw new Error('not told');
      return m;
    });
    expect(told.text).toContain('<@U_ALICE>');
    expect(told.text).toContain('HTTP 400: Event object is invalid');
    expect(told.text).toContain("• Length of 'routing_key' is incorrect (should be 32 characters)");
    expect(told.text).toContain('not retried');
    clock.advance(10 * 60_000);
    await drain();
    expect(sentFor(dedupKey)).toHaveLength(1);
  });

  it('fails a page whose routing key variable is unset, without calling PagerDuty, and says why', async () => {
    const { number, channelId } = await declare('Cache misses');
    const before = fake.requests.length;
    await enqueue(number, 'trigger', '${env:PD_UNSET_KEY}');
    await drain();
    expect(fake.requests.length).toBe(before);
    const [page] = await pagesOf(number);
    expect(page).toMatchObject({ state: 'failed', attempts: 1, lastStatus: null });
    expect(page?.lastError).toContain('environment variable PD_UNSET_KEY');
    const told = await eventually(() => {
      const m = bot.sim.messagesIn(channelId).find((x) => x.text?.includes('could not be sent to PagerDuty'));
      if (!m) throw new Error('not told');
      return m;
    });
    expect(told.text).toContain('the routing key could not be resolved');
  });

  it('retries a PagerDuty that does not answer within 2 s', async () => {
    const { number } = await declare('Slow pager');
    fake.delayNext(3_000);
    const dedupKey = await enqueue(number, 'trigger');
    const started = Date.now();
    await drain();
    expect(Date.now() - started).toBeLessThan(2_900);
    expect((await pagesOf(number))[0]).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null });
    expect((await pagesOf(number))[0]?.lastError).toBe('PagerDuty did not answer within 2000 ms');
    clock.advance(30_000);
    await drain();
    expect((await pagesOf(number))[0]).toMatchObject({ state: 'sent', attempts: 2 });
    expect(fake.alerts.get(dedupKey)?.opened).toBe(1);
  });

  it('gives up a page whose last try began but whose outcome was lost (a crash), sending nothing more', async () => {
    const { number } = await declare('Crashed sender');
    const before = fake.requests.length;
    // Recorded as the row would be after the third try began and its replica died (one transaction,
    // so no timer loop sees the page before).
    await bot.runtime.services.db.transaction(async (tx) => {
      await new PagerDutyEventRepository(tx, clock).enqueue({
        idempotencyKey: `test:crash:${seq++}`,
        incidentNumber: number,
        kind: 'alert',
        routingKeyRef: '${env:PAGERDUTY_ROUTING_KEY}',
        event: { action: 'resolve', dedupKey: `runbook-test-inc-${number}` },
      });
      await tx.query(
        "UPDATE pagerduty_events SET attempts = 3, last_status = 503, last_error = 'Service Unavailable' WHERE incident_number = $1",
        [number],
      );
    });
    await drain();
    expect(fake.requests.length).toBe(before);
    const [page] = await pagesOf(number);
    expect(page).toMatchObject({ state: 'failed', attempts: 3, lastStatus: 503 });
    expect(page?.lastError).toContain('gave up after 3 tries');
  });

  it('keeps an incident’s pages in order: an acknowledge waits for its retried trigger', async () => {
    const { number } = await declare('Queue backlog');
    fake.failNext(503);
    const dedupKey = await enqueue(number, 'trigger');
    await enqueue(number, 'acknowledge');
    await drain();
    expect(sentFor(dedupKey).map((r) => [r.body?.event_action, r.status])).toEqual([['trigger', 503]]);
    clock.advance(30_000);
    await drain();
    expect(sentFor(dedupKey).map((r) => [r.body?.event_action, r.status])).toEqual([
      ['trigger', 503],
      ['trigger', 202],
      ['acknowledge', 202],
    ]);
    expect(fake.alerts.get(dedupKey)?.state).toBe('acknowledged');
    expect((await pagesOf(number)).map((p) => p.state)).toEqual(['sent', 'sent']);
  });

  it('two replicas send each page once, an incident’s in order', async () => {
    const { number } = await declare('Everything is on fire');
    const dedupKey = await enqueue(number, 'trigger');
    clock.advance(1_000);
    await enqueue(number, 'acknowledge');
    clock.advance(1_000);
    await enqueue(number, 'resolve');
    const changes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const summary = `restart barq-api production #${i} by @U_ALICE: succeeded`;
      changes.push(summary);
      await bot.runtime.services.repos.pagerduty.enqueue({
        idempotencyKey: `test:change:${i}:${seq++}`,
        incidentNumber: null,
        kind: 'change',
        routingKeyRef: '${env:PAGERDUTY_ROUTING_KEY}',
        event: { summary, source: 'runbook-bot', timestamp: clock.now() },
      });
    }
    fake.delayNext(50, 4);
    await drain();
    clock.advance(30_000);
    await drain();
    expect(sentFor(dedupKey).map((r) => r.body?.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(fake.alerts.get(dedupKey)).toMatchObject({ state: 'resolved', opened: 1 });
    const sentChanges = fake
      .accepted('change')
      .map((r) => (r.body?.payload as { summary?: string } | undefined)?.summary)
      .filter((s) => s?.includes(' #'));
    expect(sentChanges.sort()).toEqual([...changes].sort());
    expect((await pagesOf(null)).filter((p) => p.state !== 'sent')).toEqual([]);
  });
});
