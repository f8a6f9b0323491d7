import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackSimulator, startSlackSimulator } from '../../../src/local/slack/server.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { countSlackApiError } from '../../../src/slack/kit/api-error-metric.ts';

describe('Slack API error metric', () => {
  let sim: SlackSimulator;
  beforeAll(async () => {
    sim = await startSlackSimulator();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('counts a real WebClient platform error by its Slack error code, and ignores other errors', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const client = new WebClient(sim.botToken, { slackApiUrl: sim.apiUrl, retryConfig: { retries: 0 } });
    const error = await client.chat.postMessage({ channel: 'C_NOPE', text: 'x' }).catch((e: unknown) => e);
    expect(countSlackApiError(metrics, error, 'chat.postMessage')).toBe(true);
    expect(countSlackApiError(metrics, new Error('not slack'))).toBe(false);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'runbook_slack_api_errors_total{method="chat.postMessage",error="channel_not_found"} 1',
    );
  });
});
