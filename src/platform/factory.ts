import type { ServiceConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { createAppServicePlatform } from './appservice/appservice-platform.ts';
import { createCloudRunPlatform } from './cloudrun/cloudrun-platform.ts';
import { createKubernetesPlatform } from './kubernetes/kubernetes-platform.ts';
import type { Platform } from './platform.ts';

/** Builds the adapter for a configured service, whichever cloud it runs on. */
export function createPlatform(service: ServiceConfig, options: { logger?: Logger } = {}): Platform {
  const logger = options.logger?.child({ service: service.name, platform: service.platform.kind });
  const common = logger ? { logger } : {};
  switch (service.platform.kind) {
    case 'cloudrun':
      return createCloudRunPlatform(service, common);
    case 'appservice':
      return createAppServicePlatform(service, common);
    case 'kubernetes':
      return createKubernetesPlatform(service, common);
  }
}

/** One adapter per service, built on first use (SDK clients are not free to construct). */
export class PlatformRegistry {
  readonly #cache = new Map<string, Platform>();
  readonly #services: readonly ServiceConfig[];
  readonly #logger: Logger | undefined;
  constructor(services: readonly ServiceConfig[], logger?: Logger) {
    this.#services = services;
    this.#logger = logger;
  }
  for(service: ServiceConfig): Platform {
    const key = `${service.name}/${service.environment}`;
    let platform = this.#cache.get(key);
    if (!platform) {
      platform = createPlatform(service, this.#logger ? { logger: this.#logger } : {});
      this.#cache.set(key, platform);
    }
    return platform;
  }
  get services(): readonly ServiceConfig[] {
    return this.#services;
  }
}
