import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PagerDuty, PagerDutyAlertEvent } from '../../src/pagerduty/pagerduty.ts';
import type { FakeRequest } from './fake.ts';

/**
 * What a PagerDuty harness offers the contract suite: the adapter under test pointed at an
 * in-process PagerDuty, and ways to script and read that PagerDuty.
 */
export interface PagerDutyHarness {
  pagerduty: PagerDuty;
  /** The same adapter pointed at a port where nothing listens. */
  unreachable(): PagerDuty;
  /** A routing key PagerDuty accepts (32 characters). */
  routingKey: string;
  /** The adapter's deadline per call, in ms. */
  deadlineMs: number;
  failNext(status: number, times?: number): void;
  delayNext(ms: number): void;
  requests(): FakeRequest[];
  alertState(dedupKey: string): 'triggered' | 'acknowledged' | 'resolved' | undefined;
  close(): Promise<void>;
}

/** The one contract of the PagerDuty port, run against an adapter and its fake. */
export function describePagerDutyContract(name: string, setup: () => Promise<PagerDutyHarness>): void {
  describe(`${name} PagerDuty contract`, () => {
    let h: PagerDutyHarness;
    beforeEach(async () => {
      h = await setup();
    });
    afterEach(async () => {
      await h.close();
    });

    const trigger = (over: Partial<PagerDutyAlertEvent> = {}): PagerDutyAlertEvent => ({
      routingKey: h.routingKey,
      action: 'trigger',
      dedupKey: 'runbook-inc-42',
      payload: {
        summary: 'INC-42 P1: Checkout returns 500s',
        source: 'runbook-bot',
        severity: 'error',
        timestamp: new Date('2026-03-02T09:00:00Z'),
        component: 'checkout',
        group: 'production',
        class: 'incident',
        customDetails: { incident: 'INC-42', commander: 'U_ALICE' },
      },
      links: [{ href: 'https://slack.com/archives/C123', text: 'INC-42 in Slack' }],
      ...over,
    });

    it('triggers with the documented body and answers accepted with the dedup key', async () => {
      const result = await h.pagerduty.sendAlert(trigger());
      expect(result).toEqual({ kind: 'accepted', status: 202, dedupKey: 'runbook-inc-42' });
      const [request] = h.requests();
      expect(request?.path).toBe('/v2/enqueue');
      expect(request?.contentType).toContain('application/json');
      expect(request?.body).toMatchObject({
        routing_key: h.routingKey,
        event_action: 'trigger',
        dedup_key: 'runbook-inc-42',
        payload: {
          summary: 'INC-42 P1: Checkout returns 500s',
          source: 'runbook-bot',
          severity: 'error',
          timestamp: '2026-03-02T09:00:00.000Z',
          component: 'checkout',
          group: 'production',
          class: 'incident',
          custom_details: { incident: 'INC-42', commander: 'U_ALICE' },
        },
        links: [{ href: 'https://slack.com/archives/C123', text: 'INC-42 in Slack' }],
      });
      expect(h.alertState('runbook-inc-42')).toBe('triggered');
    });

    it('acknowledges and resolves by dedup key, without a payload; a retried trigger opens nothing new', async () => {
      expect((await h.pagerduty.sendAlert(trigger())).kind).toBe('accepted');
      expect((await h.pagerduty.sendAlert(trigger())).kind).toBe('accepted');
      const ack = await h.pagerduty.sendAlert({
        routingKey: h.routingKey,
        action: 'acknowledge',
        dedupKey: 'runbook-inc-42',
      });
      expect(ack.kind).toBe('accepted');
      expect(h.alertState('runbook-inc-42')).toBe('acknowledged');
      const resolved = await h.pagerduty.sendAlert({
        routingKey: h.routingKey,
        action: 'resolve',
        dedupKey: 'runbook-inc-42',
        payload: trigger().payload!,
      });
      expect(resolved.kind).toBe('accepted');
      expect(h.alertState('runbook-inc-42')).toBe('resolved');
      const bodies = h.requests().map((r) => r.body);
      expect(bodies[2]).toEqual({
        routing_key: h.routingKey,
        event_action: 'acknowledge',
        dedup_key: 'runbook-inc-42',
      });
      expect(bodies[3]).not.toHaveProperty('payload');
    });

    it('keeps the summary within 1,024 characters', async () => {
      const long = 'x'.repeat(3000);
      const result = await h.pagerduty.sendAlert(
        trigger({ payload: { ...trigger().payload!, summary: long } }),
      );
      expect(result.kind).toBe('accepted');
      const summary = String((h.requests()[0]?.body?.payload as { summary?: string } | undefined)?.summary);
      expect(summary.length).toBe(1024);
      expect(summary.endsWith('…')).toBe(true);
    });

    it('answers invalid with PagerDuty’s message and errors on a 400, e.g. a malformed routing key', async () => {
      const result = await h.pagerduty.sendAlert(trigger({ routingKey: 'too-short' }));
      expect(result).toEqual({
        kind: 'invalid',
        status: 400,
        message: 'Event object is invalid',
        errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"],
      });
    });

    it('answers retry on 429 and on 5xx', async () => {
      h.failNext(429);
      const throttled = await h.pagerduty.sendAlert(trigger());
      expect(throttled).toMatchObject({ kind: 'retry', status: 429 });
      h.failNext(500);
      expect(await h.pagerduty.sendAlert(trigger())).toMatchObject({ kind: 'retry', status: 500 });
      h.failNext(503);
      expect(
        await h.pagerduty.sendChange({ routingKey: h.routingKey, summary: 'x', timestamp: new Date() }),
      ).toMatchObject({
        kind: 'retry',
        status: 503,
      });
    });

    it('answers retry, within its deadline, when PagerDuty is slow or unreachable', async () => {
      h.delayNext(h.deadlineMs + 1_000);
      const started = Date.now();
      const slow = await h.pagerduty.sendAlert(trigger());
      expect(slow).toMatchObject({ kind: 'retry', status: null });
      expect(Date.now() - started).toBeLessThan(h.deadlineMs + 500);
      const down = await h.unreachable().sendAlert(trigger());
      expect(down).toMatchObject({ kind: 'retry', status: null });
      expect(down.kind === 'retry' && down.message).toContain('could not be reached');
    });

    it('sends change events with the documented body', async () => {
      const result = await h.pagerduty.sendChange({
        routingKey: h.routingKey,
        summary: 'rollback barq-api production to rev-41 by @U_ALICE: succeeded',
        source: 'runbook-bot',
        timestamp: new Date('2026-03-02T09:05:00Z'),
        customDetails: { operation: 'op-1', state: 'succeeded' },
        links: [
          { href: 'https://slack.com/archives/C_DEPLOYS/p1700000000000100', text: '#deployments thread' },
        ],
      });
      expect(result).toMatchObject({ kind: 'accepted', status: 202 });
      const [request] = h.requests();
      expect(request?.path).toBe('/v2/change/enqueue');
      expect(request?.body).toEqual({
        routing_key: h.routingKey,
        payload: {
          summary: 'rollback barq-api production to rev-41 by @U_ALICE: succeeded',
          source: 'runbook-bot',
          timestamp: '2026-03-02T09:05:00.000Z',
          custom_details: { operation: 'op-1', state: 'succeeded' },
        },
        links: [
          { href: 'https://slack.com/archives/C_DEPLOYS/p1700000000000100', text: '#deployments thread' },
        ],
      });
    });
  });
}
