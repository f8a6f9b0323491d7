import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG_PATH, loadConfigFile } from '../../src/config/load.ts';
import type { SimulatedService } from '../../src/local/platforms/index.ts';
import { simulatedConfig } from '../../src/local/platforms/local-config.ts';
import { healthAnswer, releasesFor } from '../../src/local/platforms/releases.ts';

describe('the example config in local mode', () => {
  const { config } = loadConfigFile(EXAMPLE_CONFIG_PATH);
  const sim = (name: string) =>
    ({
      name,
      apiUrl: `http://127.0.0.1:1000/${name}-api`,
      appUrl: `http://127.0.0.1:2000/${name}`,
    }) as SimulatedService;
  const { config: local, notes } = simulatedConfig(config, { find: (s) => sim(s.name) });

  it('points each service’s platform and checks at the simulators, leaving the file’s config as it is', () => {
    const [barq, fleet, architect] = local.services;
    expect(barq?.platform.endpoint).toBe('http://127.0.0.1:1000/barq-api-api');
    expect(barq?.healthChecks.map((c) => [c.name ?? c.type, c.type, c.url])).toEqual([
      ['api', 'http', 'http://127.0.0.1:2000/barq-api/health'],
      ['error rate', 'prometheus', 'http://127.0.0.1:2000/barq-api/prometheus'],
    ]);
    expect(fleet?.healthChecks[0]?.url).toBe('http://127.0.0.1:2000/fleet-api/health/readiness');
    // The Floyo token is the real service's secret: not sent to the simulator (nor needed).
    const floyo = architect?.healthChecks.find((c) => c.name === 'floyo monitoring');
    expect(floyo).toMatchObject({ url: 'http://127.0.0.1:2000/architect-api/api/monitoring/performance' });
    expect(floyo?.type === 'http' && floyo.headers).toEqual({});
    expect(notes).toEqual([
      'barq-api: database (postgres) left out',
      'architect-api: cache (redis) left out',
      'approvers.tech-lead: U_BOB (simulated)',
      'approvers.pm: U_CAROL (simulated)',
      'approvers.cto: U_DAN (simulated)',
    ]);
    // The example's empty approver groups get the simulator's users, so production changes can be approved.
    expect(local.approvers).toMatchObject({ 'tech-lead': ['U_BOB'], pm: ['U_CAROL'], cto: ['U_DAN'] });
    expect(config.approvers['tech-lead']).toEqual([]);
    // The loaded config is not changed.
    expect(config.services[0]?.platform.endpoint).toBeUndefined();
    expect(config.services[0]?.healthChecks[0]?.url).toBe('https://api.barq.com/health');
  });

  it('seeds four releases, the newest broken: its health answers 503 degraded, the others 200 healthy', () => {
    const releases = releasesFor(config.services[0]!);
    expect(releases.map((r) => [r.version, r.good])).toEqual([
      ['v1.0.0', true],
      ['v1.1.0', true],
      ['v1.2.0', true],
      ['v1.3.0', false],
    ]);
    const serve = (image: string | undefined, maintenance = false) =>
      healthAnswer('barq-api', { running: true, image, maintenance }, releases);
    expect(serve(releases[3]?.image)).toMatchObject({ status: 503, body: { status: 'degraded' } });
    expect(serve(releases[2]?.image)).toMatchObject({
      status: 200,
      body: { status: 'healthy', version: 'v1.2.0' },
    });
    expect(serve('registry.example.com/mine:v9')).toMatchObject({ status: 200 });
    expect(serve(releases[2]?.image, true)).toMatchObject({
      status: 503,
      body: { message: 'maintenance mode is on' },
    });
    expect(healthAnswer('barq-api', { running: false, why: 'no pod is available' }, releases)).toMatchObject({
      status: 503,
      body: { status: 'unhealthy', message: 'no pod is available' },
    });
  });
});
