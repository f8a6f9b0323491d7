import { randomBytes } from 'node:crypto';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { isBefore } from 'date-fns/isBefore';

/**
 * The App Service fake's model of one web app: a production slot and optional deployment slots,
 * each running some content (container image + Kudu deployment records + app settings), on an
 * App Service plan whose `sku.capacity` is the worker count.
 *
 * A slot swap exchanges the slots' content (image, deployment history, non-sticky app settings),
 * as App Service does: "App content and configuration elements can be swapped between two
 * deployment slots". Whether an image works is a property of the image (`brokenImages`), so
 * putting a broken image back anywhere breaks that slot again. Both sites of a swap report it as
 * their `slotSwapStatus` (time, source and destination slot), as ARM does.
 */

export const PRODUCTION = 'production';

/** Kudu deployment status codes (0 Pending, 1 Building, 2 Deploying, 3 Failed, 4 Success). */
export const DEPLOYMENT_STATUS = { pending: 0, building: 1, deploying: 2, failed: 3, success: 4 } as const;

export interface DeploymentRecord {
  id: string;
  status: number;
  message: string;
  author: string;
  deployer: string;
  authorEmail: string | undefined;
  startTime: Date;
  endTime: Date | undefined;
  active: boolean;
  /** Container deploys record `DOCKER|<image>` here (the linuxFxVersion they set). */
  details: string;
}

export interface SlotState {
  slot: string;
  state: 'Running' | 'Stopped';
  /** `DOCKER|<image>` */
  linuxFxVersion: string;
  /** Newest first, as Kudu lists them. */
  deployments: DeploymentRecord[];
  appSettings: Record<string, string>;
  /** The app restarts after a restart, a config or app-settings change; it is warming until then. */
  warmUntil: Date;
  restarts: number;
  /** The last successful swap this slot took part in (the site's `slotSwapStatus`). */
  swapStatus: SwapStatus | undefined;
  /**
   * Testing in production (siteConfig.experiments.rampUpRules): on production, the share of its
   * traffic each rule sends to another slot's host name (`<app>-<slot>.azurewebsites.net`).
   */
  rampUpRules: RampUpRule[];
}

/** ARM's RampUpRule, the fields a static split uses. */
export interface RampUpRule {
  name: string | undefined;
  actionHostName: string;
  reroutePercentage: number;
}

/** ARM's SlotSwapStatus: "the status of the last successful slot swap operation". */
export interface SwapStatus {
  timestampUtc: Date;
  sourceSlotName: string;
  destinationSlotName: string;
}

export interface PlanState {
  name: string;
  resourceGroup: string;
  skuName: string;
  tier: string;
  capacity: number;
  maximumNumberOfWorkers: number;
}

export interface SwapOperation {
  id: string;
  source: string;
  target: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  error: { code: string; message: string } | undefined;
  /** Status polls still answered `InProgress`. */
  pollsLeft: number;
  startTime: Date;
  endTime: Date | undefined;
}

export interface FakeModelOptions {
  slots: string[];
  plan: PlanState;
  initialImage: string;
  warmupMs: number;
  now: () => Date;
}

export function imageOf(linuxFxVersion: string): string | undefined {
  return linuxFxVersion.startsWith('DOCKER|') ? linuxFxVersion.slice('DOCKER|'.length) : undefined;
}

/** A Kudu-like deployment id (40 hex characters, like a commit id). */
export function newDeploymentId(): string {
  return randomBytes(20).toString('hex');
}

export class AppServiceModel {
  readonly slots = new Map<string, SlotState>();
  readonly plan: PlanState;
  /** Images whose container never starts (deployed with deployBroken). */
  readonly brokenImages = new Set<string>();
  /** App-setting names that stay with their slot on swap (slotConfigNames.appSettingNames). */
  readonly stickySettings = new Set<string>();
  /** The other two lists of slotConfigNames, kept as written (the fake models no connection strings or mounts). */
  stickyConnectionStrings: string[] = [];
  stickyStorageConfigs: string[] = [];
  readonly operations = new Map<string, SwapOperation>();
  /** The next swap ends `Failed` with this error, the slots unchanged. */
  nextSwapFailure: { code: string; message: string } | undefined;
  readonly #warmupMs: number;
  readonly #now: () => Date;
  #lastTimestamp = 0;

  constructor(options: FakeModelOptions) {
    this.plan = { ...options.plan };
    this.#warmupMs = options.warmupMs;
    this.#now = options.now;
    for (const slot of [PRODUCTION, ...options.slots]) {
      this.slots.set(slot, {
        slot,
        state: 'Running',
        linuxFxVersion: `DOCKER|${options.initialImage}`,
        deployments: [],
        appSettings: {},
        warmUntil: this.now(),
        restarts: 0,
        swapStatus: undefined,
        rampUpRules: [],
      });
    }
  }

  now(): Date {
    return this.#now();
  }

  /** Strictly increasing timestamps, so deployment records always order. */
  timestamp(): Date {
    const now = this.now().getTime();
    this.#lastTimestamp = Math.max(now, this.#lastTimestamp + 1);
    return new Date(this.#lastTimestamp);
  }

  slot(name: string): SlotState | undefined {
    for (const [key, state] of this.slots) if (key.toLowerCase() === name.toLowerCase()) return state;
    return undefined;
  }

  mustSlot(name: string): SlotState {
    const state = this.slot(name);
    if (!state) throw new Error(`the fake has no slot ${name}`);
    return state;
  }

  isWarming(slot: SlotState): boolean {
    return isBefore(this.now(), slot.warmUntil);
  }

  isBroken(slot: SlotState): boolean {
    const image = imageOf(slot.linuxFxVersion);
    return image !== undefined && this.brokenImages.has(image);
  }

  /** `Normal` when the app serves; `Limited` while it warms up or when its container never starts. */
  availabilityState(slot: SlotState): 'Normal' | 'Limited' {
    return this.isBroken(slot) || this.isWarming(slot) ? 'Limited' : 'Normal';
  }

  /** The app (re)starts: it serves again after the warm-up. */
  restart(slot: SlotState): void {
    slot.restarts += 1;
    slot.warmUntil = addMilliseconds(this.now(), this.#warmupMs);
  }

  addDeployment(slot: SlotState, record: DeploymentRecord): void {
    if (record.active) for (const other of slot.deployments) other.active = false;
    slot.deployments = [record, ...slot.deployments.filter((d) => d.id !== record.id)];
  }

  /** What a CI container deploy does to one slot: set the image and record the deployment, settled. */
  deployTo(
    slot: SlotState,
    image: string,
    options: { broken: boolean; author: string; deployer: string },
  ): string {
    if (options.broken) this.brokenImages.add(image);
    slot.linuxFxVersion = `DOCKER|${image}`;
    const start = this.timestamp();
    const id = newDeploymentId();
    this.addDeployment(slot, {
      id,
      status: options.broken ? DEPLOYMENT_STATUS.failed : DEPLOYMENT_STATUS.success,
      message: `Deploy ${image}`,
      author: options.author,
      deployer: options.deployer,
      authorEmail: undefined,
      startTime: start,
      endTime: start,
      active: !options.broken,
      details: `DOCKER|${image}`,
    });
    return id;
  }

  /** Exchanges the two slots' content: image, deployment history and non-sticky app settings. */
  swap(source: SlotState, target: SlotState): void {
    [source.linuxFxVersion, target.linuxFxVersion] = [target.linuxFxVersion, source.linuxFxVersion];
    [source.deployments, target.deployments] = [target.deployments, source.deployments];
    const split = (settings: Record<string, string>) => {
      const sticky: Record<string, string> = {};
      const moving: Record<string, string> = {};
      for (const [k, v] of Object.entries(settings)) (this.stickySettings.has(k) ? sticky : moving)[k] = v;
      return { sticky, moving };
    };
    const a = split(source.appSettings);
    const b = split(target.appSettings);
    source.appSettings = { ...b.moving, ...a.sticky };
    target.appSettings = { ...a.moving, ...b.sticky };
    // The source was warmed up before the swap, so production serves at once.
    target.warmUntil = this.now();
    const status = {
      timestampUtc: this.timestamp(),
      sourceSlotName: source.slot,
      destinationSlotName: target.slot,
    };
    source.swapStatus = status;
    target.swapStatus = { ...status };
  }

  swapInProgress(): SwapOperation | undefined {
    for (const op of this.operations.values()) if (op.status === 'InProgress') return op;
    return undefined;
  }

  startSwap(source: string, target: string, polls: number): SwapOperation {
    const op: SwapOperation = {
      id: randomBytes(16).toString('hex'),
      source,
      target,
      status: 'InProgress',
      error: undefined,
      pollsLeft: polls,
      startTime: this.now(),
      endTime: undefined,
    };
    this.operations.set(op.id, op);
    if (polls <= 0) this.finishSwap(op);
    return op;
  }

  /** One status poll: `InProgress` while polls are left, then the swap happens and `Succeeded`. */
  pollSwap(op: SwapOperation): SwapOperation {
    if (op.status === 'InProgress') {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      else this.finishSwap(op);
    }
    return op;
  }

  finishSwap(op: SwapOperation): void {
    const failure = this.nextSwapFailure;
    this.nextSwapFailure = undefined;
    if (failure) {
      op.status = 'Failed';
      op.error = failure;
    } else {
      this.swap(this.mustSlot(op.source), this.mustSlot(op.target));
      op.status = 'Succeeded';
    }
    op.endTime = this.now();
  }
}
