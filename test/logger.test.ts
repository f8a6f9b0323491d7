import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.ts';
import { HealthService } from '../src/health/service.ts';
import { createLogger } from '../src/logger.ts';
import { duplicateKeys } from './helpers/json-keys.ts';
import { TEST_REDIS_URL } from './helpers/services.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ destination, level: 'debug' }), lines };
}

describe('log lines', () => {
  it('duplicateKeys sees what JSON.parse hides', () => {
    expect(
      duplicateKeys('{"service":"runbook-bot","service":"web","a":{"b":1,"b":2},"c":[{"d":1},{"d":2}]}'),
    ).toEqual(['service', 'b']);
    expect(duplicateKeys('{"a":"x\\"service\\":","service":"s","n":[1,"a"]}')).toEqual([]);
  });

  it('a health check logs the bot as `app` and the checked service as `service`, each once', async () => {
    const { logger, lines } = capture();
    const config = configSchema.parse({
      services: [
        {
          name: 'web',
          platform: { kind: 'kubernetes', namespace: 'ops', deployment: 'web' },
          healthChecks: [{ name: 'cache', type: 'redis', url: TEST_REDIS_URL }],
        },
      ],
    });
    await new HealthService({ config, logger }).checkService('web');
    const line = lines.find((l) => l.includes('"msg":"health checked"'));
    expect(line).toBeDefined();
    expect(duplicateKeys(line ?? '')).toEqual([]);
    expect(JSON.parse(line ?? '{}')).toMatchObject({ app: 'runbook-bot', service: 'web' });
  });

  it('a key logged again beside the same key bound to the logger is written once', () => {
    const { logger, lines } = capture();
    const platform = logger.child({ service: 'web', platform: 'kubernetes' });
    platform.info({ service: 'web', platform: 'kubernetes', action: 'scale' }, 'scaled');
    platform.info({ service: 'api', app: 'other' }, 'odd');
    for (const line of lines) expect(duplicateKeys(line), line).toEqual([]);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      app: 'runbook-bot',
      service: 'web',
      action: 'scale',
    });
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({
      app: 'runbook-bot',
      service: 'web',
      service2: 'api',
      app2: 'other',
    });
  });
});
