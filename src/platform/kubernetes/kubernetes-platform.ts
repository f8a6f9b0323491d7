import { performance } from 'node:perf_hooks';
import {
  AppsV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { type Clock, systemClock } from '../../clock.ts';
import type { KubernetesPlatformConfig, ServiceConfig } from '../../config/schema.ts';
import type { Logger } from '../../logger.ts';
import { closedError, PlatformError, type RetryOptions, withRetry } from '../errors.ts';
import type { ChangeResult, Platform, PlatformStatus, Revision, SettleResult } from '../platform.ts';
import { type Coordinates, credentialError, type Operation, targetName, toPlatformError } from './errors.ts';
import { loadKubeConfig, serverOf } from './kubeconfig.ts';
import { isMaintenanceOn, maintenanceContainer, maintenancePatch } from './maintenance.ts';
import {
  CHANGE_CAUSE_ANNOTATION,
  type Container,
  type DeploymentView,
  parseDeployment,
  parseReplicaSetList,
  parseScale,
  RESTARTED_AT_ANNOTATION,
  type ReplicaSetView,
  selectorQuery,
} from './resources.ts';
import { equalIgnoreHash, ownedBy, rollbackPatch, targetReplicaSet } from './rollback.ts';
import { rolloutState } from './rollout-status.ts';

/**
 * A Kubernetes Deployment behind the Platform interface, on @kubernetes/client-node's AppsV1Api,
 * doing what the runbooks do with kubectl: `rollout status` (status, waitUntilSettled),
 * `rollout history` (history), `rollout undo [--to-revision]` (rollback), `rollout restart`,
 * `scale` (through the scale subresource), and maintenance mode as an environment variable.
 */

export interface KubernetesPlatformOptions {
  /** The cluster and identity; default from platform.context / in-cluster / kubeconfig (see kubeconfig.ts). */
  kubeConfig?: KubeConfig;
  /** Backoff for transient errors (429, 5xx, timeouts); tests pass `{ baseDelayMs: 1 }`. */
  retry?: RetryOptions;
  logger?: Logger;
  /** Source of the kubectl.kubernetes.io/restartedAt time. */
  clock?: Clock;
  /** Longest wait for one API request; default 30 s. */
  requestTimeoutMs?: number;
  /** Recorded as the field manager of the bot's changes; default runbook-bot. */
  fieldManager?: string;
  /** Longest wait for the kubeconfig user's credentials (an exec plugin, say); default 2 s. */
  credentialTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** RFC 3339 in UTC with whole seconds, as kubectl writes restartedAt. */
const rfc3339 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Aborts a request that gets no answer in time (the SDK has no timeout of its own). */
function timeoutMiddleware(ms: number): ObservableMiddleware {
  return {
    pre: (context) => {
      context.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

function imageOf(containers: Container[], name: string | undefined): string | undefined {
  return (containers.find((c) => c.name === name) ?? containers[0])?.image;
}

export function createKubernetesPlatform(
  service: ServiceConfig,
  options: KubernetesPlatformOptions = {},
): Platform {
  if (service.platform.kind !== 'kubernetes') {
    throw new PlatformError(
      'invalid',
      `service ${service.name} is configured for ${service.platform.kind}, not kubernetes`,
    );
  }
  const platform: KubernetesPlatformConfig = service.platform;
  const { namespace, deployment: name } = platform;
  const coords: Coordinates = {
    service: service.name,
    namespace,
    deployment: name,
    context: platform.context,
  };
  const target = targetName(coords);
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const fieldManager = options.fieldManager ?? 'runbook-bot';
  const variable = service.maintenanceEnvVar;
  const log = options.logger;

  const credentialTimeoutMs = options.credentialTimeoutMs ?? 2_000;

  let client: { api: AppsV1Api; server: string; kc: KubeConfig } | undefined;
  /** The API client, built on first use so a broken kubeconfig fails the operation, not startup. */
  function connect(): { api: AppsV1Api; server: string; kc: KubeConfig } {
    if (!client) {
      const kc = loadKubeConfig(platform, options.kubeConfig);
      client = { api: kc.makeApiClient(AppsV1Api), server: serverOf(kc), kc };
    }
    return client;
  }

  /**
   * The kubeconfig user's credentials (token, client certificate, or an exec plugin such as
   * gke-gcloud-auth-plugin, whose answer the client caches), got before any request and within
   * credentialTimeoutMs: a plugin that fails or hangs is the bot's authentication problem, said so,
   * rather than an "unexpected failure" of the request or a wait without end.
   */
  async function ensureCredentials(kc: KubeConfig): Promise<void> {
    const applied = kc.applyToHTTPSOptions({});
    applied.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${credentialTimeoutMs / 1000} s`)),
        credentialTimeoutMs,
      );
    });
    try {
      await Promise.race([applied, deadline]);
    } catch (error) {
      throw credentialError(error, coords);
    } finally {
      clearTimeout(timer);
    }
  }

  const callOptions = (): ConfigurationOptions => ({
    middleware: [timeoutMiddleware(timeoutMs)],
    middlewareMergeStrategy: 'append',
  });
  const patchOptions = (type: string): ConfigurationOptions =>
    setHeaderOptions('Content-Type', type, callOptions());

  /** One SDK call: errors become PlatformErrors; transient ones are retried with backoff. */
  let closed = false;
  async function call<T>(op: Operation, fn: (api: AppsV1Api) => Promise<T>): Promise<T> {
    if (closed) throw closedError(target);
    const { api, server, kc } = connect();
    return withRetry(async () => {
      await ensureCredentials(kc);
      try {
        return await fn(api);
      } catch (error) {
        throw toPlatformError(error, op, coords, server, timeoutMs);
      }
    }, options.retry);
  }

  async function readDeployment(action: string): Promise<DeploymentView> {
    const model = await call({ verb: 'get', resource: 'deployments', action }, (api) =>
      api.readNamespacedDeployment({ name, namespace }, callOptions()),
    );
    return parseDeployment(model);
  }

  async function ownedReplicaSets(d: DeploymentView): Promise<ReplicaSetView[]> {
    const labelSelector = selectorQuery(d.selector);
    const model = await call(
      {
        verb: 'list',
        resource: 'replicasets',
        action: 'list the ReplicaSets that hold its revision history',
      },
      (api) => api.listNamespacedReplicaSet({ namespace, labelSelector }, callOptions()),
    );
    return ownedBy(d, parseReplicaSetList(model));
  }

  async function patchDeployment(action: string, type: string, body: unknown): Promise<void> {
    await call({ verb: 'patch', resource: 'deployments', action }, (api) =>
      api.patchNamespacedDeployment({ name, namespace, body, fieldManager }, patchOptions(type)),
    );
  }

  function changed(result: ChangeResult): ChangeResult {
    log?.info({ service: service.name, platform: 'kubernetes', ...result }, result.summary);
    return result;
  }

  function refusePaused(d: DeploymentView, what: string): void {
    if (d.paused) {
      throw new PlatformError(
        'conflict',
        `cannot ${what} ${target}: the deployment is paused; resume it first (kubectl rollout resume deployment/${name} -n ${namespace}) and try again`,
      );
    }
  }

  return {
    kind: 'kubernetes',

    /** client-node opens its connections per request: dropping the client is all there is to close. */
    async close(): Promise<void> {
      closed = true;
      client = undefined;
    },

    async status(): Promise<PlatformStatus> {
      const d = await readDeployment('read the deployment status');
      const state = rolloutState(d);
      const { container } = maintenanceContainer(d, platform.container);
      return {
        kind: 'kubernetes',
        target,
        revision: d.revision,
        image: container.image,
        replicas: { desired: d.replicas, ready: d.status.readyReplicas },
        ready: state.done,
        ...(state.done ? {} : { reason: state.reason ? `${state.reason}: ${state.message}` : state.message }),
        maintenance: isMaintenanceOn(container, variable),
      };
    },

    async history(limit = 10): Promise<Revision[]> {
      const d = await readDeployment('read the deployment');
      const { container } = maintenanceContainer(d, platform.container);
      const owned = await ownedReplicaSets(d);
      return owned
        .filter((rs): rs is ReplicaSetView & { revision: number } => rs.revision !== undefined)
        .sort((a, b) => b.revision - a.revision)
        .slice(0, Math.max(0, limit))
        .map((rs) => {
          const cause = rs.annotations[CHANGE_CAUSE_ANNOTATION];
          return {
            id: String(rs.revision),
            image: imageOf(rs.containers, container.name),
            createdAt: rs.createdAt,
            ...(cause ? { cause } : {}),
            current: String(rs.revision) === d.revision,
          };
        });
    },

    async rollback(rollbackOptions: { toRevision?: string } = {}): Promise<ChangeResult> {
      const d = await readDeployment('read the deployment before a rollback');
      refusePaused(d, 'roll back');
      const owned = await ownedReplicaSets(d);
      const rs = targetReplicaSet(d, owned, rollbackOptions.toRevision);
      const { container } = maintenanceContainer(d, platform.container);
      const from = d.revision ?? 'unknown';
      const to = String(rs.revision);
      const toImage = imageOf(rs.containers, container.name) ?? 'no image';
      if (equalIgnoreHash(rs.template, d.template)) {
        return {
          action: 'rollback',
          from,
          to: from,
          changed: false,
          summary: `skipped rollback of ${target}: its current template already matches revision ${to} (${toImage})`,
        };
      }
      await patchDeployment(`roll back to revision ${to}`, PatchStrategy.JsonPatch, rollbackPatch(d, rs));
      const renumbered = Math.max(0, ...owned.map((r) => r.revision ?? 0)) + 1;
      return changed({
        action: 'rollback',
        from,
        to,
        changed: true,
        summary: `rolled back ${target} from revision ${from} (${container.image ?? 'no image'}) to revision ${to} (${toImage}); Kubernetes records the rollout as revision ${renumbered}`,
      });
    },

    async restart(): Promise<ChangeResult> {
      const d = await readDeployment('read the deployment before a restart');
      refusePaused(d, 'restart');
      const at = rfc3339(clock.now());
      const previous = d.templateAnnotations[RESTARTED_AT_ANNOTATION];
      const from = previous ? `restartedAt ${previous}` : 'not restarted before';
      if (previous === at) {
        return {
          action: 'restart',
          from,
          to: from,
          changed: false,
          summary: `${target} was already restarted at ${at}`,
        };
      }
      const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: at } } } } };
      await patchDeployment('restart its pods', PatchStrategy.StrategicMergePatch, body);
      const { container } = maintenanceContainer(d, platform.container);
      return changed({
        action: 'restart',
        from,
        to: `restartedAt ${at}`,
        changed: true,
        summary: `restarted ${target}: rolling restart of revision ${d.revision ?? 'unknown'} (${container.image ?? 'no image'}) at ${at}`,
      });
    },

    async scale(replicas: number): Promise<ChangeResult> {
      const { min, max } = service.scaling;
      if (!Number.isInteger(replicas) || replicas < min || replicas > max) {
        throw new PlatformError(
          'invalid',
          `cannot scale ${target} to ${replicas} replicas: the configured bounds are ${min} to ${max} (scaling.min/max)`,
        );
      }
      // Read, then replace with the resourceVersion read, as `kubectl scale` does with preconditions;
      // on a conflict (someone else changed it in between) read again, a bounded number of times.
      for (let attempt = 1; ; attempt++) {
        const scale = parseScale(
          await call(
            { verb: 'get', resource: 'deployments/scale', action: 'read its replica count' },
            (api) => api.readNamespacedDeploymentScale({ name, namespace }, callOptions()),
          ),
        );
        if (scale.replicas === replicas) {
          return {
            action: 'scale',
            from: `${scale.replicas} replicas`,
            to: `${replicas} replicas`,
            changed: false,
            summary: `${target} already runs ${replicas} replicas`,
          };
        }
        const body = {
          apiVersion: 'autoscaling/v1',
          kind: 'Scale',
          metadata: { name, namespace, resourceVersion: scale.resourceVersion },
          spec: { replicas },
        };
        try {
          await call(
            { verb: 'update', resource: 'deployments/scale', action: `scale to ${replicas} replicas` },
            (api) =>
              api.replaceNamespacedDeploymentScale({ name, namespace, body, fieldManager }, callOptions()),
          );
        } catch (error) {
          if (error instanceof PlatformError && error.code === 'conflict' && attempt < 3) continue;
          throw error;
        }
        return changed({
          action: 'scale',
          from: `${scale.replicas} replicas`,
          to: `${replicas} replicas`,
          changed: true,
          summary: `scaled ${target} from ${scale.replicas} to ${replicas} replicas`,
        });
      }
    },

    async setMaintenance(on: boolean): Promise<ChangeResult> {
      const d = await readDeployment('read the deployment before switching maintenance mode');
      const where = maintenanceContainer(d, platform.container);
      const from = isMaintenanceOn(where.container, variable) ? 'on' : 'off';
      const to = on ? 'on' : 'off';
      const ops = maintenancePatch(where, variable, on);
      if (ops.length === 0) {
        return {
          action: 'maintenance',
          from,
          to,
          changed: false,
          summary: `maintenance mode is already ${to} for ${target}`,
        };
      }
      try {
        await patchDeployment(`turn maintenance mode ${to}`, PatchStrategy.JsonPatch, ops);
      } catch (error) {
        // Our guarded patch is well formed: 422 means a `test` failed, i.e. the template moved under us.
        if (error instanceof PlatformError && error.status === 422) {
          throw new PlatformError(
            'conflict',
            `conflict: the pod template of ${target} changed while turning maintenance mode ${to}; try again`,
            { status: 422, cause: error },
          );
        }
        throw error;
      }
      const how = on ? `${variable}=true` : `${variable} removed`;
      const paused = d.paused
        ? '; the deployment is paused, so pods pick it up after kubectl rollout resume'
        : '';
      return changed({
        action: 'maintenance',
        from,
        to,
        changed: true,
        summary: `maintenance mode ${to} for ${target} (${how} on container ${where.container.name}; pods roll to pick it up${paused})`,
      });
    },

    async waitUntilSettled({ timeoutMs: limit, pollMs = 1_000 }): Promise<SettleResult> {
      const started = performance.now();
      for (;;) {
        const state = rolloutState(await readDeployment('check the rollout status'));
        const waitedMs = Math.round(performance.now() - started);
        if (state.done) return { settled: true, detail: state.message, waitedMs };
        if (state.stuck) return { settled: false, detail: state.message, waitedMs };
        if (waitedMs >= limit) {
          return { settled: false, detail: `gave up after ${limit} ms: ${state.message}`, waitedMs };
        }
        await sleep(Math.max(1, Math.min(pollMs, limit - waitedMs)));
      }
    },

    async setTraffic(): Promise<ChangeResult> {
      throw new PlatformError(
        'unsupported',
        `${target} is a Kubernetes Deployment: it has no traffic split between revisions (use rollback or a service mesh)`,
      );
    },
  };
}
