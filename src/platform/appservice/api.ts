import {
  type AppServicePlan,
  type Deployment,
  restorePoller,
  type SlotConfigNamesResource,
  type WebSiteManagementClient,
} from '@azure/arm-appservice';
import type { AppServicePlatformConfig } from '../../config/schema.ts';
import type { Logger } from '../../logger.ts';
import { closedError, PlatformError, type RetryOptions, withRetry } from '../errors.ts';
import { createWebSiteClient, type WebSiteClientOptions } from './client.ts';
import { type CallContext, type Coordinates, targetName, toPlatformError } from './errors.ts';
import {
  type DeploymentView,
  newestFirst,
  type PlanView,
  parseDeployment,
  parsePlan,
  parsePlanId,
  parseSettings,
  parseSite,
  parseSiteConfig,
  type SiteView,
} from './resources.ts';

export interface AppServiceApiOptions extends WebSiteClientOptions {
  retry?: RetryOptions;
  logger?: Logger;
  /** Longest wait for one HTTP answer; default 30 s. */
  requestTimeoutMs?: number;
  /** Delay between polls of a slot swap; default the SDK's (2 s). */
  operationPollMs?: number;
  /** Longest wait for a slot swap or plan update to finish; default 10 minutes. */
  operationTimeoutMs?: number;
}

export interface PlanRef {
  resourceGroup: string;
  name: string;
}

/** A long-running operation as the SDK hands it out (core-lro's PollerLike, the parts used here). */
interface Operation<T> {
  submitted(): Promise<void>;
  serialize(): Promise<string>;
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<T>;
}

const APP_READ = 'Microsoft.Web/sites/read';

/**
 * Every App Service call the adapter makes, each wrapped so that SDK and HTTP errors become
 * PlatformErrors worded for a responder, and transient ones are retried by withRetry.
 */
export class AppServiceApi {
  readonly coordinates: Coordinates;
  readonly #config: AppServicePlatformConfig;
  readonly #serviceName: string;
  readonly #options: AppServiceApiOptions;
  #client: Promise<WebSiteManagementClient> | undefined;

  constructor(serviceName: string, config: AppServicePlatformConfig, options: AppServiceApiOptions) {
    this.#serviceName = serviceName;
    this.#config = config;
    this.#options = options;
    this.coordinates = {
      service: serviceName,
      subscriptionId: config.subscriptionId,
      resourceGroup: config.resourceGroup,
      app: config.app,
      slot: config.slot,
    };
  }

  get target(): string {
    return targetName(this.coordinates);
  }

  #getClient(): Promise<WebSiteManagementClient> {
    this.#client ??= createWebSiteClient(this.#config, this.#serviceName, this.#options);
    return this.#client;
  }

  get #request() {
    return { requestOptions: { timeout: this.#options.requestTimeoutMs ?? 30_000 } };
  }

  #fail(error: unknown, ctx: CallContext): PlatformError {
    const mapped = toPlatformError(error, this.coordinates, ctx);
    this.#options.logger?.warn(
      { service: this.#serviceName, action: ctx.action, code: mapped.code, status: mapped.status },
      mapped.message,
    );
    return mapped;
  }

  #closed = false;

  /**
   * The SDK client holds no sockets of its own beyond its HTTP pipeline's agent (the given
   * `clientOptions.agent` belongs to whoever passed it): dropping the client releases it.
   */
  close(): void {
    this.#closed = true;
    this.#client = undefined;
  }

  async #call<T>(ctx: CallContext, fn: (client: WebSiteManagementClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError(this.target);
    const client = await this.#getClient();
    return withRetry(async () => {
      try {
        return await fn(client);
      } catch (error) {
        throw this.#fail(error, ctx);
      }
    }, this.#options.retry);
  }

  /**
   * Runs a long-running operation: retries only the initial request (a failed one changes nothing),
   * then polls to the end. core-lro marks an operation failed on any error of a status poll, so after
   * a transient poll error the poll resumes on a poller restored from the submitted state
   * (`restorePoller`, the SDK's documented way), never by sending the operation again.
   */
  async #operation<T>(
    ctx: CallContext,
    run: {
      start: (client: WebSiteManagementClient) => Operation<T>;
      restore: (client: WebSiteManagementClient, state: string) => Operation<T>;
    },
  ): Promise<T> {
    const client = await this.#getClient();
    const submitted = await withRetry(async () => {
      const operation = run.start(client);
      try {
        await operation.submitted();
        // Wrapped: the poller is thenable, and returning it bare would await the whole operation.
        return { operation, state: await operation.serialize() };
      } catch (error) {
        throw this.#fail(error, ctx);
      }
    }, this.#options.retry);
    const abortSignal = AbortSignal.timeout(this.#options.operationTimeoutMs ?? 600_000);
    let operation = submitted.operation;
    return withRetry(async () => {
      try {
        return await operation.pollUntilDone({ abortSignal });
      } catch (error) {
        const mapped = this.#fail(error, ctx);
        if (mapped.transient) operation = run.restore(client, submitted.state);
        throw mapped;
      }
    }, this.#options.retry);
  }

  get #pollOptions() {
    return { ...this.#request, updateIntervalInMs: this.#options.operationPollMs };
  }

  #siteContext(slot: string | undefined, action: string): CallContext {
    return slot
      ? { action, permission: 'Microsoft.Web/sites/slots/read', resource: { kind: 'slot', slot } }
      : { action, permission: APP_READ, resource: { kind: 'app' } };
  }

  // ---------------------------------------------------------------- reads

  site(slot?: string): Promise<SiteView> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx = this.#siteContext(slot, slot ? `read slot ${slot}` : 'read the app');
    return this.#call(ctx, async (c) =>
      parseSite(
        slot
          ? await c.webApps.getSlot(rg, app, slot, this.#request)
          : await c.webApps.get(rg, app, this.#request),
      ),
    );
  }

  /** The site's `DOCKER|<image>`, from the site answer or else from config/web. */
  async linuxFxVersion(site: SiteView, slot?: string): Promise<string | undefined> {
    if (site.linuxFxVersion !== undefined) return site.linuxFxVersion;
    const { resourceGroup: rg, app } = this.#config;
    const ctx = this.#siteContext(slot, 'read the site configuration');
    return this.#call(ctx, async (c) =>
      parseSiteConfig(
        slot
          ? await c.webApps.getConfigurationSlot(rg, app, slot, this.#request)
          : await c.webApps.getConfiguration(rg, app, this.#request),
      ),
    );
  }

  /** The deployment records of production or a slot, newest first. */
  deployments(slot?: string): Promise<DeploymentView[]> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: slot ? `list the deployments of slot ${slot}` : 'list deployments',
      permission: slot
        ? 'Microsoft.Web/sites/slots/deployments/read'
        : 'Microsoft.Web/sites/deployments/read',
      resource: slot ? { kind: 'slot', slot } : { kind: 'app' },
    };
    return this.#call(ctx, async (c) => {
      const out: DeploymentView[] = [];
      const pages = slot
        ? c.webApps.listDeploymentsSlot(rg, app, slot, this.#request)
        : c.webApps.listDeployments(rg, app, this.#request);
      for await (const deployment of pages) out.push(parseDeployment(deployment));
      return newestFirst(out);
    });
  }

  appSettings(): Promise<Record<string, string>> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: 'read the app settings',
      permission: 'Microsoft.Web/sites/config/list/action',
      resource: { kind: 'app' },
    };
    return this.#call(ctx, async (c) =>
      parseSettings(await c.webApps.listApplicationSettings(rg, app, this.#request)),
    );
  }

  /** The site's slot config names (config/slotConfigNames): the settings that stay with their slot on a swap. */
  slotConfigNames(): Promise<SlotConfigNamesResource> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: 'read the slot settings (slotConfigNames)',
      permission: 'Microsoft.Web/sites/config/read',
      resource: { kind: 'app' },
    };
    return this.#call(ctx, (c) => c.webApps.listSlotConfigurationNames(rg, app, this.#request));
  }

  /** The plan named in the config, or else the one the site runs on. */
  planRef(site: SiteView | undefined): PlanRef {
    if (this.#config.plan) return { resourceGroup: this.#config.resourceGroup, name: this.#config.plan };
    const ref = parsePlanId(site?.serverFarmId);
    if (!ref) {
      throw new PlatformError(
        'invalid',
        `cannot tell which App Service plan ${this.target} runs on: set platform.plan of service ${this.#serviceName}`,
      );
    }
    return ref;
  }

  plan(ref: PlanRef): Promise<{ raw: AppServicePlan; view: PlanView }> {
    const ctx: CallContext = {
      action: `read App Service plan ${ref.name}`,
      permission: 'Microsoft.Web/serverfarms/read',
      resource: { kind: 'plan', ...ref },
    };
    return this.#call(ctx, async (c) => {
      const raw = await c.appServicePlans.get(ref.resourceGroup, ref.name, this.#request);
      return { raw, view: parsePlan(raw) };
    });
  }

  // ---------------------------------------------------------------- changes

  /** `az appservice plan update --number-of-workers`: GET the plan, PUT it back with sku.capacity. */
  async setPlanCapacity(ref: PlanRef, raw: AppServicePlan, capacity: number): Promise<void> {
    const ctx: CallContext = {
      action: `scale App Service plan ${ref.name} to ${capacity} workers`,
      permission: 'Microsoft.Web/serverfarms/write',
      resource: { kind: 'plan', ...ref },
    };
    const plan: AppServicePlan = { ...raw, sku: { ...raw.sku, capacity } };
    await this.#operation(ctx, {
      start: (c) => c.appServicePlans.createOrUpdate(ref.resourceGroup, ref.name, plan, this.#pollOptions),
      restore: (c, state) => restorePoller(c, state, c.appServicePlans.createOrUpdate, this.#pollOptions),
    });
  }

  /** PUT config/appsettings replaces the whole set: pass every setting. */
  async writeAppSettings(settings: Record<string, string>, action: string): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action,
      permission: 'Microsoft.Web/sites/config/write',
      resource: { kind: 'app' },
    };
    await this.#call(ctx, (c) =>
      c.webApps.updateApplicationSettings(rg, app, { properties: settings }, this.#request),
    );
  }

  /**
   * Makes an app setting slot-sticky (`az webapp config appsettings set --slot-settings`): reads
   * config/slotConfigNames and, when the name is missing, PUTs it back with the name added, every
   * other name (app settings, connection strings, storage mounts) kept. True when it was added.
   */
  async ensureStickyAppSetting(name: string): Promise<boolean> {
    const current = await this.slotConfigNames();
    const names = current.appSettingNames ?? [];
    if (names.includes(name)) return false;
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: `make app setting ${name} a slot setting`,
      permission: 'Microsoft.Web/sites/config/write',
      resource: { kind: 'app' },
    };
    const next: SlotConfigNamesResource = {
      appSettingNames: [...names, name],
      connectionStringNames: current.connectionStringNames ?? [],
      azureStorageConfigNames: current.azureStorageConfigNames ?? [],
    };
    await this.#call(ctx, (c) => c.webApps.updateSlotConfigurationNames(rg, app, next, this.#request));
    return true;
  }

  async restart(): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: 'restart the app',
      permission: 'Microsoft.Web/sites/restart/action',
      resource: { kind: 'app' },
    };
    await this.#call(ctx, (c) => c.webApps.restart(rg, app, this.#request));
  }

  async start(): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: 'start the app',
      permission: 'Microsoft.Web/sites/start/action',
      resource: { kind: 'app' },
    };
    await this.#call(ctx, (c) => c.webApps.start(rg, app, this.#request));
  }

  /** `az webapp deployment slot swap --slot <slot>` (to production), waited for to the end. */
  async swapIntoProduction(slot: string): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: `swap slot ${slot} into production`,
      permission: 'Microsoft.Web/sites/slotsswap/action',
      resource: { kind: 'slot', slot },
    };
    await this.#operation(ctx, {
      start: (c) =>
        c.webApps.swapSlotWithProduction(
          rg,
          app,
          { targetSlot: slot, preserveVnet: true },
          this.#pollOptions,
        ),
      restore: (c, state) => restorePoller(c, state, c.webApps.swapSlotWithProduction, this.#pollOptions),
    });
  }

  /** Points production at another container image (PATCH config/web linuxFxVersion); the app restarts. */
  async setImage(image: string): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: `switch the app to image ${image}`,
      permission: 'Microsoft.Web/sites/config/write',
      resource: { kind: 'app' },
    };
    await this.#call(ctx, (c) =>
      c.webApps.updateConfiguration(rg, app, { linuxFxVersion: `DOCKER|${image}` }, this.#request),
    );
  }

  /** A slot's default host name (`<app>-<slot>.azurewebsites.net`, or Azure's unique one). */
  slotHostName(slot: string): Promise<string> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx = this.#siteContext(slot, `read slot ${slot}`);
    return this.#call(ctx, async (c) => {
      const site = await c.webApps.getSlot(rg, app, slot, this.#request);
      return site.defaultHostName ?? `${app}-${slot}.azurewebsites.net`;
    });
  }

  /**
   * Testing in production (`az webapp traffic-routing set --distribution <slot>=<percent>`): PATCH
   * production's config/web with siteConfig.experiments.rampUpRules; 0 % clears the rule.
   */
  async routeToSlot(slot: string, percent: number): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const host = percent > 0 ? await this.slotHostName(slot) : undefined;
    const ctx: CallContext = {
      action: `route ${percent}% of traffic to slot ${slot}`,
      permission: 'Microsoft.Web/sites/config/write',
      resource: { kind: 'app' },
    };
    const rampUpRules = host ? [{ name: slot, actionHostName: host, reroutePercentage: percent }] : [];
    await this.#call(ctx, (c) =>
      c.webApps.updateConfiguration(rg, app, { experiments: { rampUpRules } }, this.#request),
    );
  }

  /** Records a deployment in the app's history (PUT sites/{app}/deployments/{id}), as CI systems do. */
  async recordDeployment(id: string, deployment: Deployment): Promise<void> {
    const { resourceGroup: rg, app } = this.#config;
    const ctx: CallContext = {
      action: `record deployment ${id}`,
      permission: 'Microsoft.Web/sites/deployments/write',
      resource: { kind: 'app' },
    };
    await this.#call(ctx, (c) => c.webApps.createDeployment(rg, app, id, deployment, this.#request));
  }
}
