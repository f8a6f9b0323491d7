import type { AnyMiddlewareArgs, App } from '@slack/bolt';
import type { Metrics } from '../../metrics.ts';

/** What a request is, for the metric labels: kind (block_actions, view_submission, event) and action. */
export function describeInteraction(
  body: AnyMiddlewareArgs['body'],
): { kind: string; action: string } | undefined {
  const b = body as {
    type?: unknown;
    actions?: { action_id?: unknown }[];
    view?: { callback_id?: unknown };
    event?: { type?: unknown };
  };
  const text = (v: unknown): string => (typeof v === 'string' && v !== '' ? v.split(':')[0]! : 'unknown');
  switch (b.type) {
    case 'block_actions':
      return { kind: 'block_actions', action: text(b.actions?.[0]?.action_id) };
    case 'view_submission':
    case 'view_closed':
      return { kind: b.type, action: text(b.view?.callback_id) };
    case 'event_callback':
      return { kind: 'event', action: text(b.event?.type) };
    default:
      return undefined; // slash commands are counted by their dispatcher
  }
}

/** Counts button clicks, modal submissions and events in runbook_interactions_total, by outcome. */
export function registerInteractionMetrics(app: App, metrics: Metrics): void {
  app.use(async ({ body, next }) => {
    const what = describeInteraction(body);
    if (!what) return next();
    try {
      await next();
      metrics.interactions.inc({ ...what, outcome: 'ok' });
    } catch (error) {
      metrics.interactions.inc({ ...what, outcome: 'error' });
      throw error;
    }
  });
}
