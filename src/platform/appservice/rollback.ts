import { randomBytes } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { PlatformError } from '../errors.ts';
import type { ChangeResult } from '../platform.ts';
import type { AppServiceApi } from './api.ts';
import {
  DEPLOYMENT_FAILED,
  DEPLOYMENT_SUCCESS,
  type DeploymentView,
  imageOfFx,
  type SwapView,
} from './resources.ts';

/**
 * Rollback on App Service.
 *
 * - Without a target: swap the configured slot (e.g. staging) back into production. After a
 *   blue/green deploy the slot holds the previous production content, so the swap restores the
 *   "last known good site", as Microsoft documents. Only then, though: the swap is refused, with
 *   the reason and production untouched, unless production's last swap (slotSwapStatus) was with
 *   this slot and nothing was deployed to either since; a build staged in the slot and never
 *   released would otherwise be "rolled back" onto. Without a slot there is nothing to swap with:
 *   refused with `unsupported`, asking for a revision id.
 * - With a target deployment id: if it is the slot's latest deployment, swap as above; otherwise
 *   redeploy the image that deployment recorded: PATCH production's linuxFxVersion to
 *   `DOCKER|<image>` and record a new deployment (deployer `runbook-bot`) so the history and the
 *   status name what runs.
 */

export interface RollbackDeps {
  api: AppServiceApi;
  serviceName: string;
  slot: string | undefined;
  clock: Clock;
  deployer: string;
}

function label(d: DeploymentView | undefined, image: string | undefined): string {
  const img = d?.image ?? image;
  const id = d?.id ?? 'the running content';
  return img ? `${id} (${img})` : id;
}

interface Production {
  deployments: DeploymentView[];
  current: DeploymentView | undefined;
  image: string | undefined;
}

async function production(deps: RollbackDeps): Promise<Production> {
  const [deployments, site] = await Promise.all([deps.api.deployments(), deps.api.site()]);
  return { deployments, current: deployments[0], image: imageOfFx(await deps.api.linuxFxVersion(site)) };
}

const PRODUCTION = 'production';

function sameSlot(a: string | undefined, b: string): boolean {
  return a?.toLowerCase() === b.toLowerCase();
}

function describeSwap(swap: SwapView): string {
  const when = swap.at ? ` at ${swap.at.toISOString()}` : '';
  return `slot ${swap.source ?? 'unknown'} into ${swap.destination ?? 'unknown'}${when}`;
}

/**
 * Why the slot does not hold what production ran just before, or undefined when it does. The
 * slot holds production's previous content only when production's last swap was with this slot
 * (the site's slotSwapStatus) and neither side changed since: no deployment recorded in the slot
 * or in production after that swap, and the slot still runs the image its newest record names.
 */
function notPrevious(
  slot: string,
  swap: SwapView | undefined,
  prod: Production,
  staged: DeploymentView[],
  slotImage: string | undefined,
): string | undefined {
  const swappedWithSlot =
    swap !== undefined &&
    ((sameSlot(swap.source, slot) && sameSlot(swap.destination, PRODUCTION)) ||
      (sameSlot(swap.source, PRODUCTION) && sameSlot(swap.destination, slot)));
  if (!swap || !swappedWithSlot || !swap.at) {
    const last = swap ? `its last swap was ${describeSwap(swap)}` : 'Azure reports no swap for it';
    return `production has not been swapped with slot ${slot} (${last}), so the slot does not hold what production ran before`;
  }
  const at = swap.at;
  const after = (d: DeploymentView) => d.startTime !== undefined && d.startTime > at;
  const unreleased = staged.find(after);
  if (unreleased) {
    return `slot ${slot} holds deployment ${label(unreleased, slotImage)}, shipped to the slot at ${unreleased.startTime?.toISOString()}, after its last swap with production (${at.toISOString()}): production has never run it`;
  }
  const changed = prod.deployments.find(after);
  if (changed) {
    return `production changed after its last swap with slot ${slot} (${at.toISOString()}): deployment ${label(changed, undefined)} at ${changed.startTime?.toISOString()}, so the slot holds an older release than the one production ran just before`;
  }
  const recorded = staged[0]?.image;
  if (recorded && slotImage && recorded !== slotImage) {
    return `slot ${slot} runs ${slotImage}, but its last deployment record (${staged[0]?.id}) names ${recorded}: its content changed after it left production`;
  }
  return undefined;
}

async function swapBack(deps: RollbackDeps, slot: string): Promise<ChangeResult> {
  const [prod, prodSite, staged, stagedSite] = await Promise.all([
    production(deps),
    deps.api.site(),
    deps.api.deployments(slot),
    deps.api.site(slot),
  ]);
  const next = staged[0];
  const slotImage = imageOfFx(await deps.api.linuxFxVersion(stagedSite, slot));
  const nextImage = next?.image ?? slotImage;
  if (!next && !nextImage) {
    throw new PlatformError(
      'conflict',
      `slot ${slot} of ${deps.api.target} holds no earlier deployment to swap back: roll back to a revision id from the history instead`,
    );
  }
  const why = notPrevious(slot, prodSite.lastSwap, prod, staged, slotImage);
  if (why) {
    throw new PlatformError(
      'conflict',
      `not rolling back ${deps.api.target} by swapping slot ${slot} into production: ${why}. Production was left as it is; roll back to a revision id from /deploy history instead`,
    );
  }
  if (next?.status === DEPLOYMENT_FAILED) {
    throw new PlatformError(
      'conflict',
      `slot ${slot} of ${deps.api.target} holds deployment ${label(next, nextImage)}, which failed: roll back to a revision id from the history instead`,
    );
  }
  await deps.api.swapIntoProduction(slot);
  const from = prod.current?.id ?? prod.image ?? 'unknown';
  const to = next?.id ?? nextImage ?? 'unknown';
  return {
    action: 'rollback',
    from,
    to,
    changed: true,
    summary: `rolled back ${deps.serviceName} from ${label(prod.current, prod.image)} to ${label(next, nextImage)} by swapping slot ${slot} into production`,
  };
}

async function redeploy(
  deps: RollbackDeps,
  target: DeploymentView,
  current: DeploymentView | undefined,
  currentImage: string | undefined,
): Promise<ChangeResult> {
  const image = target.image;
  if (!image) {
    throw new PlatformError(
      'invalid',
      `deployment ${target.id} of ${deps.api.target} does not record its image (expected DOCKER|<image> in its details): redeploy it from CI`,
    );
  }
  if (target.status === DEPLOYMENT_FAILED) {
    throw new PlatformError(
      'invalid',
      `deployment ${target.id} (${image}) failed when it shipped: pick a successful one`,
    );
  }
  await deps.api.setImage(image);
  const id = randomBytes(20).toString('hex');
  const now = deps.clock.now();
  try {
    await deps.api.recordDeployment(id, {
      status: DEPLOYMENT_SUCCESS,
      message: `Rollback to deployment ${target.id} (image: ${image})`,
      author: deps.deployer,
      deployer: deps.deployer,
      startTime: now,
      endTime: now,
      active: true,
      details: `DOCKER|${image}`,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PlatformError(
      error instanceof PlatformError ? error.code : 'unavailable',
      `${deps.serviceName} now runs ${image} again, but recording the rollback in the deployment history failed: ${message}`,
      { cause: error },
    );
  }
  return {
    action: 'rollback',
    from: current?.id ?? currentImage ?? 'unknown',
    to: id,
    changed: true,
    summary: `rolled back ${deps.serviceName} from ${label(current, currentImage)} to ${id}, a redeploy of deployment ${target.id} (${image})`,
  };
}

export async function rollback(deps: RollbackDeps, toRevision: string | undefined): Promise<ChangeResult> {
  const slot = deps.slot;
  if (toRevision === undefined) {
    if (!slot) {
      throw new PlatformError(
        'unsupported',
        `cannot roll back ${deps.api.target} to "the previous revision": it has no deployment slot to swap back (platform.slot). Give a revision id from the history and the bot redeploys that deployment's image`,
      );
    }
    return swapBack(deps, slot);
  }
  const [prod, staged] = await Promise.all([production(deps), slot ? deps.api.deployments(slot) : []]);
  const wanted = toRevision.toLowerCase();
  const inProduction = prod.deployments.find((d) => d.id.toLowerCase() === wanted);
  const inSlot = staged.find((d) => d.id.toLowerCase() === wanted);
  const target = inProduction ?? inSlot;
  if (!target) {
    throw new PlatformError(
      'not_found',
      `deployment ${toRevision} not found in the history of ${deps.api.target} (production${slot ? ` or slot ${slot}` : ''}): pick an id from the history`,
    );
  }
  if (prod.current?.id === target.id) {
    return {
      action: 'rollback',
      from: target.id,
      to: target.id,
      changed: false,
      summary: `${deps.serviceName} already runs deployment ${label(target, prod.image)}: nothing to roll back`,
    };
  }
  if (slot && !inProduction && staged[0]?.id === target.id) return swapBack(deps, slot);
  return redeploy(deps, target, prod.current, prod.image);
}
