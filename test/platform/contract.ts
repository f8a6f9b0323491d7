import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlatformError } from '../../src/platform/errors.ts';
import type { Platform } from '../../src/platform/platform.ts';

/**
 * What a platform's fake offers the shared contract suite. Each fake is an in-process HTTP server
 * speaking the platform's documented REST wire format; `platform` is the real adapter, built on the
 * real SDK and pointed at the fake through the service's endpoint override.
 */
export interface PlatformHarness {
  platform: Platform;
  /** Ships a new revision running `image` the way a CI deploy would (outside the adapter), settled. */
  deploy(image: string): Promise<void>;
  /** Ships a new revision that never becomes ready/available (a broken image). */
  deployBroken(image: string): Promise<void>;
  /**
   * Ships a broken revision and resolves once the platform has given up on it (Cloud Run: the
   * reconciliation failed; Kubernetes: progress deadline exceeded; App Service: the deployment
   * Failed), with words of the platform's own that status and waitUntilSettled must pass on.
   */
  deployFailed(image: string): Promise<string>;
  /** The next `times` requests to the platform API answer this HTTP status (Retry-After 0 for 429). */
  failNext(status: number, times?: number): void;
  /** The configured service's name, which messages must name. */
  serviceName: string;
  /**
   * The same service on an adapter whose credentials cannot be had, as the SDK's default
   * credential would fail (no Google ADC, no Azure identity, a kubeconfig exec plugin that fails).
   */
  withoutCredentials(): Platform;
  /** How many requests the platform API has received. */
  apiRequests(): number;
  close(): Promise<void>;
}

const SETTLE = { timeoutMs: 10_000, pollMs: 20 };

/** The one contract every adapter meets, run against each platform's fake. */
export function describePlatformContract(name: string, setup: () => Promise<PlatformHarness>): void {
  describe(`${name} platform contract`, () => {
    let h: PlatformHarness;
    beforeEach(async () => {
      h = await setup();
      await h.deploy('registry.example.com/app:v1');
      await h.deploy('registry.example.com/app:v2');
    });
    afterEach(async () => {
      await h.close();
    });

    it('reports status of the current revision, ready, with replicas', async () => {
      const status = await h.platform.status();
      expect(status.kind).toBe(h.platform.kind);
      expect(status.ready).toBe(true);
      expect(status.image).toBe('registry.example.com/app:v2');
      expect(status.revision).toBeTruthy();
      expect(status.maintenance).toBe(false);
      expect(status.target.length).toBeGreaterThan(0);
    });

    it('lists history newest first, marking the current revision', async () => {
      const history = await h.platform.history(10);
      expect(history.length).toBeGreaterThanOrEqual(2);
      expect(history[0]?.image).toBe('registry.example.com/app:v2');
      expect(history[0]?.current).toBe(true);
      expect(history.find((r) => r.image === 'registry.example.com/app:v1')?.current).toBe(false);
    });

    it('rolls back to the previous revision and says from → to', async () => {
      const before = await h.platform.status();
      const result = await h.platform.rollback();
      expect(result.action).toBe('rollback');
      expect(result.changed).toBe(true);
      expect(result.from).toBe(before.revision);
      expect(result.summary).toContain(result.to);
      const settled = await h.platform.waitUntilSettled(SETTLE);
      expect(settled.settled).toBe(true);
      const after = await h.platform.status();
      expect(after.image).toBe('registry.example.com/app:v1');
      expect(after.ready).toBe(true);
    });

    it('rolls back to a given revision', async () => {
      await h.deploy('registry.example.com/app:v3');
      const history = await h.platform.history(10);
      const v1 = history.find((r) => r.image === 'registry.example.com/app:v1');
      expect(v1).toBeDefined();
      const result = await h.platform.rollback({ toRevision: v1!.id });
      expect(result.changed).toBe(true);
      await h.platform.waitUntilSettled(SETTLE);
      expect((await h.platform.status()).image).toBe('registry.example.com/app:v1');
    });

    it('refuses a rollback to a revision that does not exist', async () => {
      await expect(h.platform.rollback({ toRevision: 'no-such-revision-999' })).rejects.toMatchObject({
        code: 'not_found',
      });
    });

    it('restarts and settles, keeping the image', async () => {
      const result = await h.platform.restart();
      expect(result.action).toBe('restart');
      expect(result.changed).toBe(true);
      expect((await h.platform.waitUntilSettled(SETTLE)).settled).toBe(true);
      const status = await h.platform.status();
      expect(status.image).toBe('registry.example.com/app:v2');
      expect(status.ready).toBe(true);
    });

    it('scales to N and reports from → to', async () => {
      const result = await h.platform.scale(5);
      expect(result.action).toBe('scale');
      expect(result.to).toContain('5');
      await h.platform.waitUntilSettled(SETTLE);
      expect((await h.platform.status()).replicas.desired).toBe(5);
    });

    it('turns maintenance mode on and off without changing the image', async () => {
      const on = await h.platform.setMaintenance(true);
      expect(on.changed).toBe(true);
      await h.platform.waitUntilSettled(SETTLE);
      const during = await h.platform.status();
      expect(during.maintenance).toBe(true);
      expect(during.image).toBe('registry.example.com/app:v2');
      const again = await h.platform.setMaintenance(true);
      expect(again.changed).toBe(false);
      await h.platform.setMaintenance(false);
      await h.platform.waitUntilSettled(SETTLE);
      expect((await h.platform.status()).maintenance).toBe(false);
    });

    it('waitUntilSettled gives up at its deadline on a revision that never becomes ready', async () => {
      await h.deployBroken('registry.example.com/app:broken');
      const result = await h.platform.waitUntilSettled({ timeoutMs: 300, pollMs: 20 });
      expect(result.settled).toBe(false);
      expect(result.detail.length).toBeGreaterThan(0);
      const status = await h.platform.status();
      expect(status.ready).toBe(false);
    });

    it('a deploy the platform has given up on is settled-and-failed at once, in its own words', async () => {
      const words = await h.deployFailed('registry.example.com/app:broken-build');
      const status = await h.platform.status();
      expect(status.ready).toBe(false);
      expect(status.reason).toContain(words);
      const timeoutMs = 60_000;
      const result = await h.platform.waitUntilSettled({ timeoutMs, pollMs: 20 });
      expect(result.settled).toBe(false);
      expect(result.detail).toContain(words);
      // Not waited out: the test's own timeout (20 s) is far below this deadline.
      expect(result.waitedMs).toBeLessThan(timeoutMs);
    });

    it.each([
      [401, 'unauthenticated'],
      [403, 'permission_denied'],
      [404, 'not_found'],
      [409, 'conflict'],
    ] as const)('turns HTTP %i into a typed %s error with an actionable message', async (status, code) => {
      h.failNext(status, 1);
      const error = await h.platform.status().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PlatformError);
      expect((error as PlatformError).code).toBe(code);
      expect((error as PlatformError).transient).toBe(false);
      expect((error as PlatformError).message.length).toBeGreaterThan(10);
    });

    it('without credentials it can get: authentication, naming the service, nothing sent', async () => {
      const platform = h.withoutCredentials();
      const before = h.apiRequests();
      const error = await platform.status().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PlatformError);
      expect(error).toMatchObject({ code: 'unauthenticated', transient: false });
      expect((error as PlatformError).message).toContain(h.serviceName);
      expect(h.apiRequests()).toBe(before);
      // A rejection the SDK left unhandled would surface here and fail the run.
      await new Promise((resolve) => setTimeout(resolve, 50));
    });

    it('retries a 429 and a 503 and then succeeds', async () => {
      h.failNext(429, 1);
      expect((await h.platform.status()).ready).toBe(true);
      h.failNext(503, 1);
      expect((await h.platform.status()).ready).toBe(true);
    });

    it('gives up on a persistent 503 with a transient unavailable error', async () => {
      h.failNext(503, 50);
      await expect(h.platform.status()).rejects.toMatchObject({ code: 'unavailable', transient: true });
    });
  });
}
