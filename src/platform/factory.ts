import type { ServiceConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Platform } from './platform.ts';

/**
 * Builds the adapter for a configured service, whichever cloud it runs on. Each cloud's SDK is
 * imported only when a service uses it: together they cost seconds of start-up and hundreds of MB.
 */
export async function createPlatform(
  service: ServiceConfig,
  options: { logger?: Logger } = {},
): Promise<Platform> {
  const logger = options.logger?.child({ service: service.name, platform: service.platform.kind });
  const common = logger ? { logger } : {};
  switch (service.platform.kind) {
    case 'cloudrun': {
      const { createCloudRunPlatform } = await import('./cloudrun/cloudrun-platform.ts');
      return createCloudRunPlatform(service, common);
    }
    case 'appservice': {
      const { createAppServicePlatform } = await import('./appservice/appservice-platform.ts');
      return createAppServicePlatform(service, common);
    }
    case 'kubernetes': {
      const { createKubernetesPlatform } = await import('./kubernetes/kubernetes-platform.ts');
      return createKubernetesPlatform(service, common);
    }
  }
}

/** One adapter per service, built on first use. */
export class PlatformRegistry {
  readonly #cache = new Map<string, Promise<Platform>>();
  readonly #services: readonly ServiceConfig[];
  readonly #logger: Logger | undefined;
  constructor(services: readonly ServiceConfig[], logger?: Logger) {
    this.#services = services;
    this.#logger = logger;
  }
  for(service: ServiceConfig): Promise<Platform> {
    const key = `${service.name}/${service.environment}`;
    let platform = this.#cache.get(key);
    if (!platform) {
      platform = createPlatform(service, this.#logger ? { logger: this.#logger } : {});
      this.#cache.set(key, platform);
      platform.catch(() => this.#cache.delete(key));
    }
    return platform;
  }
  get services(): readonly ServiceConfig[] {
    return this.#services;
  }
}
