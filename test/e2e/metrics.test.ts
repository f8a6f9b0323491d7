import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBot, type TestBot } from '../helpers/bot.ts';

const TOKEN = 'metrics-e2e-token-8c1d5e77';

describe('/metrics is not public: a bearer token on PORT, or a port of its own', () => {
  let withToken: TestBot;
  let ownPort: TestBot;
  beforeAll(async () => {
    [withToken, ownPort] = await Promise.all([
      startTestBot({ env: { METRICS_TOKEN: TOKEN } }),
      startTestBot({ env: { METRICS_PORT: '0' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withToken?.stop(), ownPort?.stop()]);
  });

  it('METRICS_TOKEN: 401 without the bearer token or with a wrong one, the metrics with it', async () => {
    const url = `${withToken.runtime.url}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await none.text()).not.toContain('runbook_');
    const wrong = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(url, { headers: { authorization: `Basic ${btoa(`u:${TOKEN}`)}` } });
    expect(basic.status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    const body = await ok.text();
    expect(body).toContain('runbook_handler_duration_seconds');
    // Served, so the process metrics are collected too.
    expect(body).toContain('runbook_process_cpu_seconds_total');
    expect(body).toContain('runbook_nodejs_eventloop_lag_seconds');
    expect(withToken.runtime.metricsPort).toBeUndefined();
    // The probes stay open.
    expect((await fetch(`${withToken.runtime.url}/health`)).status).toBe(200);
  });

  it('METRICS_PORT: served on its own listener, not on the public port', async () => {
    const port = ownPort.runtime.metricsPort;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(ownPort.runtime.port);
    const served = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(served.status).toBe(200);
    expect(await served.text()).toContain('runbook_handler_duration_seconds');
    expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST' })).status).toBe(404);
    const publicPort = await fetch(`${ownPort.runtime.url}/metrics`);
    expect(publicPort.status).toBe(404);
    expect(await publicPort.text()).not.toContain('runbook_');
  });

  it('collects no process metrics when /metrics is not served (no event-loop monitor, no GC observer)', async () => {
    const unserved = await startTestBot();
    try {
      const names = (await unserved.runtime.services.metrics.registry.getMetricsAsJSON()).map((m) => m.name);
      expect(names).toContain('runbook_requests_total');
      expect(
        names.filter((n) => n.startsWith('runbook_process_') || n.startsWith('runbook_nodejs_')),
      ).toEqual([]);
    } finally {
      await unserved.stop();
    }
  });

  it('never logs the metrics token', () => {
    expect(withToken.logs.join('')).not.toContain(TOKEN);
  });
});
