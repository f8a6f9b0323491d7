import type { ServiceConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { AppServicePlatformOptions } from './appservice/appservice-platform.ts';
import type { CloudRunPlatformOptions } from './cloudrun/cloudrun-platform.ts';
import { closedError } from './errors.ts';
import type { KubernetesPlatformOptions } from './kubernetes/kubernetes-platform.ts';
import type { Platform } from './platform.ts';

/**
 * Adapter options (credentials, endpoints' certificates) a service's adapter is built with, by
 * platform kind; unset: the platform's own defaults (ADC, DefaultAzureCredential, kubeconfig).
 * Local mode hands out the simulators' credentials this way.
 */
export interface PlatformOptionsSource {
  cloudrun?(service: ServiceConfig): Promise<CloudRunPlatformOptions>;
  appservice?(service: ServiceConfig): Promise<AppServicePlatformOptions>;
  kubernetes?(service: ServiceConfig): Promise<KubernetesPlatformOptions>;
}

/**
 * Builds the adapter for a configured service, whichever cloud it runs on. Each cloud's SDK is
 * imported only when a service uses it: together they cost seconds of start-up and hundreds of MB.
 */
export async function createPlatform(
  service: ServiceConfig,
  options: { logger?: Logger; adapters?: PlatformOptionsSource } = {},
): Promise<Platform> {
  const logger = options.logger?.child({ service: service.name, platform: service.platform.kind });
  const common = logger ? { logger } : {};
  switch (service.platform.kind) {
    case 'cloudrun': {
      const { createCloudRunPlatform } = await import('./cloudrun/cloudrun-platform.ts');
      return createCloudRunPlatform(service, { ...(await options.adapters?.cloudrun?.(service)), ...common });
    }
    case 'appservice': {
      const { createAppServicePlatform } = await import('./appservice/appservice-platform.ts');
      return createAppServicePlatform(service, {
        ...(await options.adapters?.appservice?.(service)),
        ...common,
      });
    }
    case 'kubernetes': {
      const { createKubernetesPlatform } = await import('./kubernetes/kubernetes-platform.ts');
      return createKubernetesPlatform(service, {
        ...(await options.adapters?.kubernetes?.(service)),
        ...common,
      });
    }
  }
}

/** One adapter per service, built on first use. */
export class PlatformRegistry {
  readonly #cache = new Map<string, Promise<Platform>>();
  readonly #services: readonly ServiceConfig[];
  readonly #logger: Logger | undefined;
  readonly #adapters: PlatformOptionsSource | undefined;
  constructor(services: readonly ServiceConfig[], logger?: Logger, adapters?: PlatformOptionsSource) {
    this.#services = services;
    this.#logger = logger;
    this.#adapters = adapters;
  }
  #closed = false;

  for(service: ServiceConfig): Promise<Platform> {
    if (this.#closed) return Promise.reject(closedError(`${service.name} (${service.platform.kind})`));
    const key = `${service.name}/${service.environment}`;
    let platform = this.#cache.get(key);
    if (!platform) {
      platform = createPlatform(service, {
        ...(this.#logger ? { logger: this.#logger } : {}),
        ...(this.#adapters ? { adapters: this.#adapters } : {}),
      });
      this.#cache.set(key, platform);
      platform.catch(() => this.#cache.delete(key));
    }
    return platform;
  }
  get services(): readonly ServiceConfig[] {
    return this.#services;
  }

  /** At shutdown: closes every adapter built (their SDK clients and connections); later asks are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const built = [...this.#cache.values()];
    this.#cache.clear();
    await Promise.allSettled(
      built.map(async (platform) => {
        await (await platform).close();
      }),
    );
  }
}
