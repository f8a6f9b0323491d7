import { z } from 'zod';
import type { JsonObject } from './json.ts';
import type { LabelSelector } from './resources.ts';
import { badRequest, invalid } from './status-errors.ts';

/** What the fake accepts in request bodies (PUT, PATCH results), checked as the API server validates. */

const stringMap = z.record(z.string(), z.string());

const labelSelectorSchema = z.object({
  matchLabels: stringMap.optional(),
  matchExpressions: z
    .array(
      z.object({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const metadataSchema = z
  .object({
    name: z.string().optional(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
    labels: stringMap.nullish(),
    annotations: stringMap.nullish(),
  })
  .loose();

const containerSchema = z.object({ name: z.string().min(1), image: z.string().min(1) }).loose();

const podTemplateSchema = z
  .object({
    metadata: z.object({ labels: stringMap.nullish(), annotations: stringMap.nullish() }).loose().nullish(),
    spec: z.object({ containers: z.array(containerSchema).min(1) }).loose(),
  })
  .loose();

const deploymentBodySchema = z
  .object({
    metadata: metadataSchema,
    spec: z
      .object({
        replicas: z.number().int().min(0).optional(),
        selector: labelSelectorSchema,
        template: podTemplateSchema,
        strategy: z.record(z.string(), z.json()).optional(),
        revisionHistoryLimit: z.number().int().min(0).optional(),
        progressDeadlineSeconds: z.number().int().min(1).optional(),
        minReadySeconds: z.number().int().min(0).optional(),
        paused: z.boolean().optional(),
      })
      .loose(),
  })
  .loose();

export interface DeploymentBody {
  name: string | undefined;
  resourceVersion: string | undefined;
  labels: Record<string, string> | undefined;
  annotations: Record<string, string> | undefined;
  replicas: number | undefined;
  selector: LabelSelector;
  template: JsonObject;
  strategy: JsonObject | undefined;
  revisionHistoryLimit: number | undefined;
  progressDeadlineSeconds: number | undefined;
  minReadySeconds: number | undefined;
  paused: boolean | undefined;
}

function fieldOf(path: PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** A Deployment as sent (PUT) or as a patch left it; 422 Invalid like the server when it is not one. */
export function parseDeploymentBody(name: string, value: unknown): DeploymentBody {
  const parsed = deploymentBodySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(
      'Deployment',
      name,
      issue ? fieldOf(issue.path) : 'spec',
      issue?.message ?? 'invalid value',
    );
  }
  const { metadata, spec } = parsed.data;
  return {
    name: metadata.name,
    resourceVersion: metadata.resourceVersion,
    labels: metadata.labels ?? undefined,
    annotations: metadata.annotations ?? undefined,
    replicas: spec.replicas,
    selector: spec.selector,
    template: spec.template as JsonObject,
    strategy: spec.strategy as JsonObject | undefined,
    revisionHistoryLimit: spec.revisionHistoryLimit,
    progressDeadlineSeconds: spec.progressDeadlineSeconds,
    minReadySeconds: spec.minReadySeconds,
    paused: spec.paused,
  };
}

const scaleBodySchema = z
  .object({
    metadata: z
      .object({ name: z.string().optional(), resourceVersion: z.string().optional() })
      .loose()
      .optional(),
    spec: z
      .object({ replicas: z.number().int().min(0).optional() })
      .loose()
      .optional(),
  })
  .loose();

export interface ScaleBody {
  name: string | undefined;
  resourceVersion: string | undefined;
  replicas: number;
}

export function parseScaleBody(name: string, value: unknown): ScaleBody {
  const parsed = scaleBodySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(
      'Scale',
      name,
      issue ? fieldOf(issue.path) : 'spec.replicas',
      issue?.message ?? 'invalid value',
    );
  }
  return {
    name: parsed.data.metadata?.name,
    resourceVersion: parsed.data.metadata?.resourceVersion,
    replicas: parsed.data.spec?.replicas ?? 0,
  };
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`the request body is not JSON: ${(error as Error).message}`);
  }
}
