import { addMilliseconds } from 'date-fns/addMilliseconds';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { isBefore } from 'date-fns/isBefore';
import { type Clock, systemClock } from '../../clock.ts';
import type { AppServicePlatformConfig, ServiceConfig } from '../../config/schema.ts';
import { PlatformError } from '../errors.ts';
import type {
  ChangeResult,
  Platform,
  PlatformStatus,
  Revision,
  SettleResult,
  TrafficSteps,
} from '../platform.ts';
import { AppServiceApi, type AppServiceApiOptions } from './api.ts';
import { checkEndpoint } from './client.ts';
import {
  DEPLOYMENT_FAILED,
  DEPLOYMENT_SUCCESS,
  type DeploymentView,
  deploymentStatusName,
  imageOfFx,
  isOn,
  newestFirst,
  type SiteView,
} from './resources.ts';
import { rollback } from './rollback.ts';

export interface AppServicePlatformOptions extends AppServiceApiOptions {
  /** Deadlines of waitUntilSettled and timestamps of recorded deployments. */
  clock?: Clock;
  /** Between polls of waitUntilSettled; tests may inject one that moves a ManualClock. */
  sleep?: (ms: number) => Promise<void>;
  /** Author/deployer of the deployment records the bot writes; default `runbook-bot`. */
  deployer?: string;
}

interface Assessment {
  ready: boolean;
  /** The latest deployment has failed: waiting longer will not change the answer. */
  final: boolean;
  reason: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether the app serves its latest deployment: site `Running`, `availabilityState` Normal, and the
 * last deployment record complete (Kudu status 4, Success). Every failing condition is named. A
 * last deployment that Kudu reports Failed (status 3) is final: App Service is done with it.
 */
function assess(site: SiteView, latest: DeploymentView | undefined): Assessment {
  const problems: string[] = [];
  if (site.state !== 'Running') problems.push(`the app is ${site.state ?? 'in an unknown state'}`);
  if (site.availabilityState !== 'Normal') {
    problems.push(`availability is ${site.availabilityState ?? 'unknown'}`);
  }
  if (latest && latest.status !== DEPLOYMENT_SUCCESS) {
    problems.push(`deployment ${latest.id} is ${deploymentStatusName(latest.status)}`);
  }
  if (problems.length > 0) {
    return { ready: false, final: latest?.status === DEPLOYMENT_FAILED, reason: problems.join('; ') };
  }
  return {
    ready: true,
    final: true,
    reason: `Running, availability Normal${latest ? `, deployment ${latest.id} Success` : ''}`,
  };
}

class AppServicePlatform implements Platform {
  readonly kind = 'appservice' as const;
  readonly #service: ServiceConfig;
  readonly #config: AppServicePlatformConfig;
  readonly #api: AppServiceApi;
  readonly #options: AppServicePlatformOptions;
  readonly #clock: Clock;

  constructor(service: ServiceConfig, config: AppServicePlatformConfig, options: AppServicePlatformOptions) {
    this.#service = service;
    this.#config = config;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#api = new AppServiceApi(service.name, config, options);
  }

  async close(): Promise<void> {
    this.#api.close();
  }

  /**
   * Gradual roll-outs to what is staged in the slot: production routes a share of its traffic to the
   * slot (rampUpRules), and at 100 % the rule is cleared and the slot swapped into production.
   */
  readonly trafficSteps: TrafficSteps = {
    prepare: async (revision) => {
      const slot = this.#config.slot;
      if (!slot) {
        throw new PlatformError(
          'unsupported',
          `${this.#service.name} has no deployment slot (platform.slot): App Service shifts traffic between slots`,
        );
      }
      const [prod, staged] = await Promise.all([this.#api.deployments(), this.#api.deployments(slot)]);
      const newest = staged[0];
      if (!newest || newest.id !== revision) {
        throw new PlatformError(
          'invalid',
          `slot ${slot} does not hold deployment "${revision}" (its newest is ${newest?.id ?? 'none'}): stage it there first`,
        );
      }
      const from = prod[0]?.id;
      if (!from) throw new PlatformError('invalid', 'production has no deployment to go back to');
      return { fromRevision: from, toRevision: revision, toImage: newest.image };
    },
    shift: async ({ fromRevision, toRevision, percent }) => {
      const slot = this.#config.slot ?? '';
      if (percent < 100) {
        await this.#api.routeToSlot(slot, percent);
        return this.#changed({
          action: 'traffic',
          from: fromRevision,
          to: `${toRevision} ${percent}%`,
          changed: true,
          summary: `routed ${percent}% of ${this.#service.name}'s traffic to slot ${slot} (${toRevision})`,
        });
      }
      // Already swapped (a step re-run after a crash): production serves it.
      const prod = await this.#api.deployments();
      if (prod[0]?.id !== toRevision) {
        await this.#api.routeToSlot(slot, 0);
        await this.#api.swapIntoProduction(slot);
      }
      return this.#changed({
        action: 'traffic',
        from: fromRevision,
        to: toRevision,
        changed: true,
        summary: `swapped slot ${slot} (${toRevision}) into production`,
      });
    },
    revert: async ({ fromRevision }) => {
      const slot = this.#config.slot ?? '';
      await this.#api.routeToSlot(slot, 0);
      return this.#changed({
        action: 'traffic',
        from: 'slot routing',
        to: fromRevision,
        changed: true,
        summary: `all of ${this.#service.name}'s traffic back on production (${fromRevision})`,
      });
    },
  };

  #changed(result: ChangeResult): ChangeResult {
    this.#options.logger?.info(
      {
        service: this.#service.name,
        action: result.action,
        from: result.from,
        to: result.to,
        changed: result.changed,
      },
      result.summary,
    );
    return result;
  }

  async status(): Promise<PlatformStatus> {
    const sitePromise = this.#api.site();
    const planPromise = this.#config.plan
      ? this.#api.plan(this.#api.planRef(undefined))
      : sitePromise.then((site) => this.#api.plan(this.#api.planRef(site)));
    const [site, deployments, settings, plan] = await Promise.all([
      sitePromise,
      this.#api.deployments(),
      this.#api.appSettings(),
      planPromise,
    ]);
    const latest = deployments[0];
    const image = imageOfFx(await this.#api.linuxFxVersion(site)) ?? latest?.image;
    const { ready, reason } = assess(site, latest);
    const capacity = plan.view.capacity;
    return {
      kind: this.kind,
      target: this.#api.target,
      revision: latest?.id,
      image,
      replicas: { desired: capacity, ready: site.state === 'Running' ? capacity : 0 },
      ready,
      ...(ready ? {} : { reason }),
      maintenance: isOn(settings[this.#service.maintenanceEnvVar]),
    };
  }

  /** Deployments of production and of the configured slot (swaps move history with the content), newest first. */
  async history(limit = 10): Promise<Revision[]> {
    const slot = this.#config.slot;
    const [prod, staged] = await Promise.all([
      this.#api.deployments(),
      slot ? this.#api.deployments(slot) : [],
    ]);
    const currentId = prod[0]?.id;
    const seen = new Set(prod.map((d) => d.id));
    const all = newestFirst([...prod, ...staged.filter((d) => !seen.has(d.id))]);
    let currentImage: string | undefined;
    if (prod[0] && !prod[0].image)
      currentImage = imageOfFx(await this.#api.linuxFxVersion(await this.#api.site()));
    return all.slice(0, Math.max(0, limit)).map((d) => ({
      id: d.id,
      image: d.image ?? (d.id === currentId ? currentImage : undefined),
      createdAt: d.startTime,
      ...(d.cause ? { cause: d.cause } : {}),
      current: d.id === currentId,
    }));
  }

  async rollback(options: { toRevision?: string } = {}): Promise<ChangeResult> {
    const result = await rollback(
      {
        api: this.#api,
        serviceName: this.#service.name,
        slot: this.#config.slot,
        clock: this.#clock,
        deployer: this.#options.deployer ?? 'runbook-bot',
      },
      options.toRevision,
    );
    return this.#changed(result);
  }

  /** `az webapp restart`; a stopped app is started instead (a restart would leave it stopped). */
  async restart(): Promise<ChangeResult> {
    const site = await this.#api.site();
    if (site.state === 'Stopped') {
      await this.#api.start();
      return this.#changed({
        action: 'restart',
        from: 'Stopped',
        to: 'Running',
        changed: true,
        summary: `started ${this.#api.target}, which was stopped`,
      });
    }
    await this.#api.restart();
    return this.#changed({
      action: 'restart',
      from: site.state ?? 'unknown',
      to: 'restarted',
      changed: true,
      summary: `restarted ${this.#api.target}`,
    });
  }

  /** `az appservice plan update --number-of-workers N`: the plan's sku.capacity, within scaling bounds. */
  async scale(replicas: number): Promise<ChangeResult> {
    const { min, max } = this.#service.scaling;
    if (!Number.isInteger(replicas) || replicas < min || replicas > max) {
      throw new PlatformError(
        'invalid',
        `cannot scale ${this.#service.name} to ${replicas} workers: the configured bounds are ${min} to ${max} (scaling.min / scaling.max)`,
      );
    }
    if (replicas < 1) {
      throw new PlatformError(
        'invalid',
        `cannot scale ${this.#service.name} to 0 workers: an App Service plan runs at least one; use maintenance mode to take the app out of service`,
      );
    }
    const ref = this.#api.planRef(this.#config.plan ? undefined : await this.#api.site());
    const plan = await this.#api.plan(ref);
    const limit = plan.view.maximumNumberOfWorkers;
    if (limit !== undefined && replicas > limit) {
      throw new PlatformError(
        'invalid',
        `cannot scale ${this.#service.name} to ${replicas} workers: App Service plan ${ref.name} allows at most ${limit} in its tier`,
      );
    }
    const from = plan.view.capacity;
    const fromText = from === undefined ? 'unknown' : `${from} workers`;
    if (from === replicas) {
      return this.#changed({
        action: 'scale',
        from: fromText,
        to: `${replicas} workers`,
        changed: false,
        summary: `${this.#service.name} already runs ${replicas} workers (App Service plan ${ref.name})`,
      });
    }
    await this.#api.setPlanCapacity(ref, plan.raw, replicas);
    return this.#changed({
      action: 'scale',
      from: fromText,
      to: `${replicas} workers`,
      changed: true,
      summary: `scaled ${this.#service.name} from ${fromText} to ${replicas} workers (App Service plan ${ref.name}: every app on the plan scales with it)`,
    });
  }

  /**
   * `az webapp config appsettings set --slot-settings / delete`: list the settings, set or remove the
   * key, write the whole set back. Before turning it on, the key is made slot-sticky (slotConfigNames),
   * so a later swap leaves maintenance with production instead of carrying it into the slot; the name
   * stays sticky after turning it off.
   */
  async setMaintenance(on: boolean): Promise<ChangeResult> {
    const key = this.#service.maintenanceEnvVar;
    if (on) await this.#api.ensureStickyAppSetting(key);
    const settings = await this.#api.appSettings();
    const was = isOn(settings[key]);
    const word = (v: boolean) => (v ? 'on' : 'off');
    if (was === on) {
      return this.#changed({
        action: 'maintenance',
        from: word(was),
        to: word(on),
        changed: false,
        summary: `maintenance mode of ${this.#service.name} is already ${word(on)}`,
      });
    }
    const next = { ...settings };
    if (on) next[key] = 'true';
    else delete next[key];
    await this.#api.writeAppSettings(next, `turn maintenance mode ${word(on)} (app setting ${key})`);
    return this.#changed({
      action: 'maintenance',
      from: word(was),
      to: word(on),
      changed: true,
      summary: `turned maintenance mode of ${this.#service.name} ${word(on)} (app setting ${key}; the app restarts)`,
    });
  }

  async #settleCheck(): Promise<Assessment> {
    const [site, deployments] = await Promise.all([this.#api.site(), this.#api.deployments()]);
    return assess(site, deployments[0]);
  }

  async waitUntilSettled(options: { timeoutMs: number; pollMs?: number }): Promise<SettleResult> {
    const sleep = this.#options.sleep ?? defaultSleep;
    const pollMs = options.pollMs ?? 5_000;
    const start = this.#clock.now();
    const deadline = addMilliseconds(start, options.timeoutMs);
    for (;;) {
      let check: Assessment;
      try {
        check = await this.#settleCheck();
      } catch (error) {
        // Transient trouble (already retried) does not end the wait; anything else does.
        if (!(error instanceof PlatformError) || !error.transient) throw error;
        check = { ready: false, final: false, reason: error.message };
      }
      const now = this.#clock.now();
      const waitedMs = differenceInMilliseconds(now, start);
      if (check.ready) return { settled: true, detail: `${this.#api.target}: ${check.reason}`, waitedMs };
      if (check.final) {
        return { settled: false, detail: `${this.#api.target} settled, failed: ${check.reason}`, waitedMs };
      }
      if (!isBefore(now, deadline)) {
        return {
          settled: false,
          detail: `${this.#api.target} did not settle within ${options.timeoutMs} ms: ${check.reason}`,
          waitedMs,
        };
      }
      await sleep(Math.max(1, Math.min(pollMs, differenceInMilliseconds(deadline, now))));
    }
  }
}

/**
 * The Azure App Service adapter, on the official `@azure/arm-appservice` SDK. `service.platform`
 * must be an `appservice` platform; `platform.endpoint` (https) points the SDK at another ARM
 * endpoint, such as the in-process fake in tests.
 */
export function createAppServicePlatform(
  service: ServiceConfig,
  options: AppServicePlatformOptions = {},
): Platform {
  const config = service.platform;
  if (config.kind !== 'appservice') {
    throw new PlatformError(
      'invalid',
      `service ${service.name} runs on ${config.kind}, not Azure App Service: use the ${config.kind} adapter`,
    );
  }
  checkEndpoint(config, service.name);
  return new AppServicePlatform(service, config, options);
}
