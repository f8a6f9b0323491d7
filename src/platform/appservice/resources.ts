import { z } from 'zod';

/**
 * The parts of the App Service answers the adapter relies on, checked with zod on the SDK's
 * deserialized models (which flatten ARM's `properties` and turn timestamps into Dates).
 */

/** Kudu deployment status codes. */
export const DEPLOYMENT_SUCCESS = 4;
export const DEPLOYMENT_FAILED = 3;
const DEPLOYMENT_STATUS_NAMES: Record<number, string> = {
  0: 'Pending',
  1: 'Building',
  2: 'Deploying',
  3: 'Failed',
  4: 'Success',
};

export function deploymentStatusName(status: number | undefined): string {
  return status === undefined ? 'unknown' : (DEPLOYMENT_STATUS_NAMES[status] ?? `status ${status}`);
}

/** An answer from Azure that does not have the shape the adapter relies on. */
export class UnexpectedAnswerError extends Error {
  override name = 'UnexpectedAnswerError';
}

const siteSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  state: z.string().nullish(),
  availabilityState: z.string().nullish(),
  serverFarmId: z.string().nullish(),
  siteConfig: z.object({ linuxFxVersion: z.string().nullish() }).nullish(),
  slotSwapStatus: z
    .object({
      timestampUtc: z.date().nullish(),
      sourceSlotName: z.string().nullish(),
      destinationSlotName: z.string().nullish(),
    })
    .nullish(),
});

/** The last successful slot swap the site took part in (ARM's `slotSwapStatus`). */
export interface SwapView {
  at: Date | undefined;
  source: string | undefined;
  destination: string | undefined;
}

export interface SiteView {
  /** Running / Stopped. */
  state: string | undefined;
  /** Normal / Limited / DisasterRecoveryMode. */
  availabilityState: string | undefined;
  serverFarmId: string | undefined;
  /** `DOCKER|<image>`; absent when the site answer leaves siteConfig out. */
  linuxFxVersion: string | undefined;
  lastSwap: SwapView | undefined;
}

const deploymentSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  status: z.number().int().nullish(),
  message: z.string().nullish(),
  author: z.string().nullish(),
  deployer: z.string().nullish(),
  startTime: z.date().nullish(),
  endTime: z.date().nullish(),
  active: z.boolean().nullish(),
  details: z.string().nullish(),
});

export interface DeploymentView {
  id: string;
  status: number | undefined;
  image: string | undefined;
  startTime: Date | undefined;
  /** author / deployer / message, as one line. */
  cause: string | undefined;
  active: boolean;
}

const planSchema = z.object({
  name: z.string().optional(),
  location: z.string().min(1),
  sku: z.object({ capacity: z.number().int().nullish(), name: z.string().nullish() }).nullish(),
  maximumNumberOfWorkers: z.number().int().nullish(),
});

export interface PlanView {
  capacity: number | undefined;
  maximumNumberOfWorkers: number | undefined;
}

const settingsSchema = z.object({ properties: z.record(z.string(), z.string().nullable()).nullish() });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new UnexpectedAnswerError(
    `Azure answered an unexpected ${what}: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim(),
  );
}

export function parseSite(value: unknown): SiteView {
  const site = parse(siteSchema, value, 'site');
  return {
    state: site.state ?? undefined,
    availabilityState: site.availabilityState ?? undefined,
    serverFarmId: site.serverFarmId ?? undefined,
    linuxFxVersion: site.siteConfig?.linuxFxVersion ?? undefined,
    lastSwap: site.slotSwapStatus
      ? {
          at: site.slotSwapStatus.timestampUtc ?? undefined,
          source: site.slotSwapStatus.sourceSlotName ?? undefined,
          destination: site.slotSwapStatus.destinationSlotName ?? undefined,
        }
      : undefined,
  };
}

export function parseSiteConfig(value: unknown): string | undefined {
  return (
    parse(z.object({ linuxFxVersion: z.string().nullish() }), value, 'site config').linuxFxVersion ??
    undefined
  );
}

export function parsePlan(value: unknown): PlanView {
  const plan = parse(planSchema, value, 'App Service plan');
  return {
    capacity: plan.sku?.capacity ?? undefined,
    maximumNumberOfWorkers: plan.maximumNumberOfWorkers ?? undefined,
  };
}

export function parseSettings(value: unknown): Record<string, string> {
  const settings = parse(settingsSchema, value, 'app settings list');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings.properties ?? {})) if (v !== null) out[k] = v;
  return out;
}

/** The image of `DOCKER|<image>` (the linuxFxVersion of a container app). */
export function imageOfFx(linuxFxVersion: string | undefined): string | undefined {
  const match = /^DOCKER\|(.+)$/i.exec(linuxFxVersion?.trim() ?? '');
  return match?.[1];
}

/**
 * Where a deployment record says which image it shipped. Kudu has no image field, so this is our
 * convention, followed by the fake's CI deploys and by the records the bot writes on rollback:
 * container deploys put the `DOCKER|<image>` they set in `details`; as a fallback, a message with
 * `image: <ref>` / `image=<ref>` names it. CI pipelines that record deployments (PUT
 * sites/{app}/deployments/{id}) should follow it, or history shows no image for their records.
 */
export function imageOfDeployment(
  details: string | undefined,
  message: string | undefined,
): string | undefined {
  const fromDetails = imageOfFx(details);
  if (fromDetails) return fromDetails;
  return /(?:^|\s)image\s*[:=]\s*(\S+)/i.exec(message ?? '')?.[1];
}

/** The last segment of an ARM resource id (or a `site/id` name): the deployment id. */
function lastSegment(value: string | undefined): string | undefined {
  const parts = value?.split('/').filter((p) => p.length > 0) ?? [];
  return parts[parts.length - 1];
}

function causeOf(d: z.output<typeof deploymentSchema>): string | undefined {
  const who =
    d.author && d.deployer ? `${d.author} via ${d.deployer}` : (d.author ?? d.deployer ?? undefined);
  const message = d.message?.trim() || undefined;
  if (who && message) return `${who}: ${message}`;
  return who ?? message;
}

export function parseDeployment(value: unknown): DeploymentView {
  const d = parse(deploymentSchema, value, 'deployment');
  const id = lastSegment(d.id) ?? lastSegment(d.name);
  if (!id) throw new UnexpectedAnswerError('Azure answered a deployment without an id or name');
  return {
    id,
    status: d.status ?? undefined,
    image: imageOfDeployment(d.details ?? undefined, d.message ?? undefined),
    startTime: d.startTime ?? undefined,
    cause: causeOf(d),
    active: d.active ?? false,
  };
}

/** Newest first by start time; records without one keep their listed place after dated ones. */
export function newestFirst(deployments: DeploymentView[]): DeploymentView[] {
  return deployments
    .map((d, index) => ({ d, index }))
    .sort((a, b) => {
      const ta = a.d.startTime?.getTime();
      const tb = b.d.startTime?.getTime();
      if (ta !== undefined && tb !== undefined && ta !== tb) return tb - ta;
      if (ta === undefined && tb !== undefined) return 1;
      if (tb === undefined && ta !== undefined) return -1;
      return a.index - b.index;
    })
    .map(({ d }) => d);
}

/** `{ resourceGroup, name }` of an ARM id such as `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/serverfarms/p`. */
export function parsePlanId(id: string | undefined): { resourceGroup: string; name: string } | undefined {
  const match = /\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/serverfarms\/([^/]+)$/i.exec(id ?? '');
  return match?.[1] && match[2] ? { resourceGroup: match[1], name: match[2] } : undefined;
}

const TRUTHY = new Set(['true', '1', 'on', 'yes']);

export function isOn(value: string | undefined): boolean {
  return value !== undefined && TRUTHY.has(value.trim().toLowerCase());
}
