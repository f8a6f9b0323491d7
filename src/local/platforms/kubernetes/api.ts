import { type Cluster, keyOf, type Resource } from './cluster.ts';
import type { DeploymentController } from './controller.ts';
import { cloneJson, isJsonObject, type JsonObject, semanticEqual } from './json.ts';
import { applyPatch } from './patch.ts';
import {
  type Deployment,
  type DeploymentSpec,
  deploymentToWire,
  type ReplicaSet,
  replicaSetToWire,
  scaleToWire,
} from './resources.ts';
import {
  type FieldRequirement,
  matchesFields,
  matchesLabels,
  type Requirement,
  requirementsOf,
  selectorString,
} from './selectors.ts';
import { badRequest, conflict, invalid, notFound } from './status-errors.ts';
import { type DeploymentBody, parseDeploymentBody, parseScaleBody } from './wire.ts';

/**
 * The apps/v1 REST semantics the fake serves, apart from HTTP: reads and lists with selectors,
 * updates with resourceVersion preconditions (409), validation (422), generation bumped on spec
 * changes, status owned by the controller, and the autoscaling/v1 scale subresource.
 */

export const DEFAULT_STRATEGY: JsonObject = {
  type: 'RollingUpdate',
  rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
};

function templateLabelsOf(template: JsonObject): Record<string, string> {
  const metadata = template.metadata;
  const labels = isJsonObject(metadata) && isJsonObject(metadata.labels) ? metadata.labels : {};
  return Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

function listOf(kind: string, resourceVersion: number, items: JsonObject[]): JsonObject {
  // Items of a typed list carry no kind/apiVersion of their own on the wire.
  const bare = items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  return { kind, apiVersion: 'apps/v1', metadata: { resourceVersion: String(resourceVersion) }, items: bare };
}

export interface ListFilter {
  labels: Requirement[];
  fields: FieldRequirement[];
}

export class AppsApi {
  readonly #cluster: Cluster;
  readonly #controller: DeploymentController;

  constructor(cluster: Cluster, controller: DeploymentController) {
    this.#cluster = cluster;
    this.#controller = controller;
  }

  deployment(namespace: string, name: string): Deployment {
    const d = this.#cluster.deployments.get(keyOf(namespace, name));
    if (!d) throw notFound('deployments', name);
    return d;
  }

  getDeployment(namespace: string, name: string): JsonObject {
    return deploymentToWire(this.deployment(namespace, name));
  }

  getReplicaSet(namespace: string, name: string): JsonObject {
    const rs = this.#cluster.replicaSets.get(keyOf(namespace, name));
    if (!rs) throw notFound('replicasets', name);
    return replicaSetToWire(rs);
  }

  matches(
    filter: ListFilter,
    meta: { name: string; namespace: string; labels?: Record<string, string> },
  ): boolean {
    return matchesLabels(filter.labels, meta.labels) && matchesFields(filter.fields, meta);
  }

  list(resource: Resource, namespace: string | undefined, filter: ListFilter): JsonObject {
    const source: (Deployment | ReplicaSet)[] =
      resource === 'deployments'
        ? [...this.#cluster.deployments.values()]
        : [...this.#cluster.replicaSets.values()];
    const items = source
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => this.matches(filter, o.metadata))
      .sort((a, b) =>
        keyOf(a.metadata.namespace, a.metadata.name).localeCompare(
          keyOf(b.metadata.namespace, b.metadata.name),
        ),
      )
      .map((o) =>
        resource === 'deployments' ? deploymentToWire(o as Deployment) : replicaSetToWire(o as ReplicaSet),
      );
    return listOf(
      resource === 'deployments' ? 'DeploymentList' : 'ReplicaSetList',
      this.#cluster.resourceVersion,
      items,
    );
  }

  replaceDeployment(namespace: string, name: string, body: unknown, dryRun: boolean): JsonObject {
    const current = this.deployment(namespace, name);
    return this.#update(current, parseDeploymentBody(name, body), dryRun);
  }

  patchDeployment(
    namespace: string,
    name: string,
    contentType: string,
    body: unknown,
    dryRun: boolean,
  ): JsonObject {
    const current = this.deployment(namespace, name);
    const patched = applyPatch(contentType, deploymentToWire(current), body);
    return this.#update(current, parseDeploymentBody(name, patched), dryRun);
  }

  #update(current: Deployment, body: DeploymentBody, dryRun: boolean): JsonObject {
    const { name } = current.metadata;
    if (body.name !== undefined && body.name !== name) {
      throw badRequest(`the name of the object (${body.name}) does not match the name on the URL (${name})`);
    }
    if (body.resourceVersion !== undefined && body.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict('deployments', name);
    }
    if (
      !semanticEqual(cloneJson(body.selector) as JsonObject, cloneJson(current.spec.selector) as JsonObject)
    ) {
      throw invalid('Deployment', name, 'spec.selector', 'field is immutable');
    }
    if (!matchesLabels(requirementsOf(body.selector), templateLabelsOf(body.template))) {
      throw invalid(
        'Deployment',
        name,
        'spec.template.metadata.labels',
        `Invalid value: ${JSON.stringify(templateLabelsOf(body.template))}: \`selector\` does not match template \`labels\``,
      );
    }
    const spec: DeploymentSpec = {
      replicas: body.replicas ?? 1,
      selector: body.selector,
      template: body.template,
      strategy: body.strategy ?? DEFAULT_STRATEGY,
      revisionHistoryLimit: body.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: body.progressDeadlineSeconds ?? 600,
      ...(body.minReadySeconds !== undefined ? { minReadySeconds: body.minReadySeconds } : {}),
      ...(body.paused ? { paused: true } : {}),
    };
    const next: Deployment = cloneJson(current);
    next.metadata.labels = body.labels;
    next.metadata.annotations = body.annotations;
    if (!body.labels) delete next.metadata.labels;
    if (!body.annotations) delete next.metadata.annotations;
    const specChanged = !semanticEqual(
      cloneJson(spec) as unknown as JsonObject,
      cloneJson(current.spec) as unknown as JsonObject,
    );
    next.spec = spec;
    if (specChanged) next.metadata.generation++;
    if (dryRun) return deploymentToWire(next);
    Object.assign(current, next);
    this.#cluster.saveDeployment(current);
    this.#controller.enqueue(current.metadata.namespace, name);
    return deploymentToWire(current);
  }

  getScale(namespace: string, name: string): JsonObject {
    const d = this.deployment(namespace, name);
    return scaleToWire(d, selectorString(d.spec.selector));
  }

  replaceScale(namespace: string, name: string, body: unknown, dryRun: boolean): JsonObject {
    return this.#setScale(this.deployment(namespace, name), body, dryRun);
  }

  patchScale(
    namespace: string,
    name: string,
    contentType: string,
    body: unknown,
    dryRun: boolean,
  ): JsonObject {
    const d = this.deployment(namespace, name);
    const patched = applyPatch(contentType, scaleToWire(d, selectorString(d.spec.selector)), body);
    return this.#setScale(d, patched, dryRun);
  }

  #setScale(d: Deployment, body: unknown, dryRun: boolean): JsonObject {
    const { name } = d.metadata;
    const scale = parseScaleBody(name, body);
    if (scale.name !== undefined && scale.name !== name) {
      throw badRequest(`the name of the object (${scale.name}) does not match the name on the URL (${name})`);
    }
    if (scale.resourceVersion !== undefined && scale.resourceVersion !== d.metadata.resourceVersion) {
      throw conflict('deployments', name);
    }
    if (dryRun || scale.replicas === d.spec.replicas) {
      return scaleToWire(
        { ...d, spec: { ...d.spec, replicas: scale.replicas } },
        selectorString(d.spec.selector),
      );
    }
    d.spec.replicas = scale.replicas;
    d.metadata.generation++;
    this.#cluster.saveDeployment(d);
    this.#controller.enqueue(d.metadata.namespace, name);
    return scaleToWire(d, selectorString(d.spec.selector));
  }
}
