import { describe, expect, it } from 'vitest';
import { describeHealthBody, normalizeStatus, parseHealthBody } from '../../src/health/health-body.ts';
import { FLEET_DEGRADED, FLEET_HEALTHY, FLOYO_HEALTHY, FLOYO_UNHEALTHY } from './helpers/servers.ts';

const target = 'https://api.example.com/health';

function parse(json: unknown) {
  const parsed = parseHealthBody(json, target);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.body;
}

describe('health body', () => {
  it('maps the status words of the runbooks and of common frameworks', () => {
    expect(['healthy', 'ok', 'UP', 'pass'].map(normalizeStatus)).toEqual([
      'healthy',
      'healthy',
      'healthy',
      'healthy',
    ]);
    expect(['degraded', 'warn'].map(normalizeStatus)).toEqual(['degraded', 'degraded']);
    expect(['unhealthy', 'error', 'down', 'fail'].map(normalizeStatus)).toEqual([
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
    ]);
    expect(normalizeStatus('starting')).toBeUndefined();
    expect(normalizeStatus(3)).toBeUndefined();
  });

  it('Fleet healthy: components, their latency, messages and details', () => {
    const body = parse(FLEET_HEALTHY);
    expect(body.status).toBe('healthy');
    expect(body.details).toEqual({
      version: '1.0.0',
      environment: 'production',
      uptime: 3600,
      timestamp: '2025-12-09T19:00:00.000Z',
    });
    expect(body.children[1]).toEqual({
      name: 'redis',
      type: 'component',
      target,
      status: 'healthy',
      latencyMs: 5,
      details: { message: 'Redis connection healthy' },
    });
  });

  it('Fleet degraded', () => {
    const body = parse(FLEET_DEGRADED);
    expect(body.status).toBe('degraded');
    expect(describeHealthBody(body)).toBe(
      'body reports degraded: database degraded (Database responding slowly, 1200ms)',
    );
  });

  it('Floyo: a bare-string check and the block message beside it', () => {
    const body = parse(FLOYO_UNHEALTHY);
    expect(body.children).toEqual([
      { name: 'database', type: 'component', target, status: 'unhealthy', reason: 'Connection timeout' },
    ]);
    expect(parse(FLOYO_HEALTHY).children).toEqual([]);
  });

  it('derives the status from the checks when the top has none, and reads nested checks', () => {
    const body = parse({
      checks: {
        db: { checks: { primary: 'up', replica: { status: 'down', error: 'replication lag 40s' } } },
      },
    });
    expect(body.status).toBe('unhealthy');
    expect(body.children[0]?.children?.[1]).toMatchObject({ name: 'replica', reason: 'replication lag 40s' });
  });

  it('application/health+json: arrays of observations, the worst one speaking', () => {
    const body = parse({
      status: 'warn',
      checks: {
        'db:connections': [
          { componentId: 'a', status: 'pass', observedValue: 5 },
          { componentId: 'b', status: 'warn', output: 'pool nearly full' },
        ],
      },
    });
    expect(body.status).toBe('degraded');
    expect(body.children[0]).toMatchObject({
      name: 'db:connections',
      status: 'degraded',
      reason: 'pool nearly full',
    });
  });

  it('latency written as a duration string', () => {
    expect(
      parse({ status: 'ok', checks: { db: { status: 'ok', latency: '1.5s' } } }).children[0]?.latencyMs,
    ).toBe(1500);
  });

  it('says why a body is not in the health format', () => {
    expect(parseHealthBody([1, 2], target)).toEqual({ ok: false, problem: 'it is not a JSON object' });
    expect(parseHealthBody('ok', target)).toEqual({ ok: false, problem: 'it is not a JSON object' });
    expect(parseHealthBody({ uptime: 1 }, target)).toEqual({
      ok: false,
      problem: 'it has no "status" field',
    });
    expect(parseHealthBody({ status: 'starting' }, target)).toEqual({
      ok: false,
      problem: 'its status "starting" is not healthy, degraded or unhealthy (or ok, up, error, down)',
    });
  });
});
