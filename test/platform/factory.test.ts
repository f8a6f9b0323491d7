import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { createPlatform, PlatformRegistry } from '../../src/platform/factory.ts';

describe('platform factory', () => {
  it('builds the adapter of each configured platform kind behind one interface', async () => {
    const config = parseConfigText(`
services:
  - {name: a, platform: {kind: cloudrun, project: p, region: r, service: a}}
  - {name: b, platform: {kind: appservice, subscriptionId: s, resourceGroup: g, app: b}}
  - {name: c, platform: {kind: kubernetes, namespace: n, deployment: c, endpoint: "https://127.0.0.1:6443"}}
`);
    const platforms = await Promise.all(config.services.map((s) => createPlatform(s)));
    expect(platforms.map((p) => p.kind)).toEqual(['cloudrun', 'appservice', 'kubernetes']);
    const registry = new PlatformRegistry(config.services);
    const first = config.services[0]!;
    expect(await registry.for(first)).toBe(await registry.for(first));
  });
});
