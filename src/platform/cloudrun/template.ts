import type { IRevisionTemplate, RevisionView, ServiceView } from './resources.ts';

/** Revision fields that are also RevisionTemplate fields: what a revision was made from. */
const FROM_REVISION = [
  'scaling',
  'vpcAccess',
  'timeout',
  'serviceAccount',
  'containers',
  'volumes',
  'executionEnvironment',
  'encryptionKey',
  'maxInstanceRequestConcurrency',
  'serviceMesh',
  'encryptionKeyRevocationAction',
  'encryptionKeyShutdownDuration',
  'sessionAffinity',
  'nodeSelector',
  'gpuZonalRedundancyDisabled',
] as const satisfies readonly (keyof IRevisionTemplate)[];

/**
 * The FULL template to write back for a change to what is serving (never a partial one: Cloud Run
 * replaces the template whole, and a partial one would wipe the image, env and secrets).
 *
 * Normally the serving revision is the latest created one and the service template describes it.
 * After a rollback (traffic pinned to an older revision) or a failed deploy (the template holds the
 * broken release), it does not: then the serving revision's own configuration is laid over the
 * template, so that a restart or maintenance switch never ships the release that was rolled back.
 * `template.revision` (a fixed revision name) is cleared so Cloud Run names the new revision.
 */
export function templateForChange(service: ServiceView, serving: RevisionView): IRevisionTemplate {
  const template = structuredClone(service.raw.template ?? {});
  if (serving.id !== service.latestCreatedRevision) {
    const revision = structuredClone(serving.raw) as Record<string, unknown>;
    const target = template as Record<string, unknown>;
    for (const field of FROM_REVISION) target[field] = revision[field];
  }
  template.revision = '';
  return template;
}

/** Sets an environment variable on the first container (replacing a secret reference of that name). */
export function withEnv(template: IRevisionTemplate, name: string, value: string): IRevisionTemplate {
  const [first, ...rest] = template.containers ?? [];
  if (!first) return template;
  const env = (first.env ?? []).filter((e) => e.name !== name);
  const index = (first.env ?? []).findIndex((e) => e.name === name);
  env.splice(index < 0 ? env.length : index, 0, { name, value });
  return { ...template, containers: [{ ...first, env }, ...rest] };
}

export function withScaling(
  template: IRevisionTemplate,
  min: number,
  max: number | undefined,
): IRevisionTemplate {
  return {
    ...template,
    scaling: { ...(template.scaling ?? {}), minInstanceCount: min, maxInstanceCount: max ?? 0 },
  };
}
