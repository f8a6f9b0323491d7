import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../../clock.ts';
import { AppsApi } from './api.ts';
import { Cluster, keyOf } from './cluster.ts';
import { DeploymentController } from './controller.ts';
import { getCondition, isComplete } from './deployment-util.ts';
import type { JsonObject } from './json.ts';
import {
  CHANGE_CAUSE_ANNOTATION,
  type Deployment,
  deploymentToWire,
  replicaSetToWire,
  revisionOf,
} from './resources.ts';
import { createRouter, type RecordedRequest } from './routes.ts';
import { containersOf, defaultDeployment } from './seed.ts';

export type { RecordedRequest };

/**
 * An in-process Kubernetes API server on 127.0.0.1 for apps/v1 Deployments and ReplicaSets, with a
 * deployment controller behind it. It speaks what @kubernetes/client-node and kubectl send:
 *   GET /version, /api, /api/v1, /apis, /apis/{apps,autoscaling}[/v1]           discovery
 *   GET    /apis/apps/v1/[namespaces/{ns}/]deployments[?labelSelector&fieldSelector&watch]
 *   GET|PUT|PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}
 *   GET|PUT|PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale        autoscaling/v1 Scale
 *   GET    /apis/apps/v1/namespaces/{ns}/deployments/{name}/status
 *   GET    /apis/apps/v1/[namespaces/{ns}/]replicasets[/{name}][?labelSelector&watch]
 * PATCH takes application/json-patch+json, merge-patch+json and strategic-merge-patch+json.
 * Failures are `Status` objects. With `token` set, requests need `Authorization: Bearer <token>`.
 */

export interface KubernetesFakeOptions {
  namespace?: string;
  /** The Deployment deploy() ships to. */
  deployment?: string;
  /** The container deploy() sets the image of. */
  container?: string;
  /** Replicas of the Deployment deploy() creates. */
  replicas?: number;
  /** Bearer token requests must carry; unset: no authentication. */
  token?: string;
  /** The user RBAC denials name. */
  user?: string;
  /** Time between the controller's sync steps; default 10 ms. */
  stepMs?: number;
  /** Overrides spec.progressDeadlineSeconds (600 s) for ProgressDeadlineExceeded; default 300 ms. */
  progressDeadlineMs?: number;
  /** Images whose pods never become available; default: any image containing "broken". */
  isBrokenImage?: (image: string) => boolean;
  clock?: Clock;
}

/** A compact view of the state, for comparing two fakes. */
export interface KubernetesSnapshot {
  revision: string | undefined;
  images: string[];
  replicas: number;
  paused: boolean;
  generation: number;
  replicaSets: {
    revision: number;
    revisionHistory: string | undefined;
    images: string[];
    replicas: number;
  }[];
}

export interface DeployOptions {
  /** kubernetes.io/change-cause for the new revision; default `deploy <image>`. */
  changeCause?: string;
}

export interface KubernetesFake {
  url: string;
  namespace: string;
  deploymentName: string;
  requests: RecordedRequest[];
  /** The Deployment as the API returns it. */
  deployment(): JsonObject;
  replicaSets(): JsonObject[];
  snapshot(): KubernetesSnapshot;
  /** Ships `image` the way CI does (`kubectl set image`) and waits for the rollout to complete. */
  deploy(image: string, options?: DeployOptions): Promise<void>;
  /** Ships an image whose pods never become available; waits until the controller has seen it. */
  deployBroken(image: string, options?: DeployOptions): Promise<void>;
  /** Waits until the controller has observed the latest spec and the rollout is complete. */
  waitForRollout(): Promise<void>;
  setPaused(paused: boolean): void;
  /** The next `times` requests answer `status` (Retry-After: 0 on 429). */
  failNext(status: number, times?: number): void;
  /** RBAC: requests with this verb on this resource (e.g. patch, deployments/scale) get 403. */
  deny(verb: string, resource: string): void;
  close(): Promise<void>;
}

export async function startKubernetesFake(options: KubernetesFakeOptions = {}): Promise<KubernetesFake> {
  const namespace = options.namespace ?? 'default';
  const deploymentName = options.deployment ?? 'app';
  const containerName = options.container ?? 'app';
  const user = options.user ?? 'system:serviceaccount:ops:runbook-bot';
  const stepMs = options.stepMs ?? 10;
  const cluster = new Cluster(options.clock ?? systemClock);
  const controller = new DeploymentController(cluster, {
    stepMs,
    progressDeadlineMs: options.progressDeadlineMs ?? 300,
    isBrokenImage: options.isBrokenImage ?? ((image) => image.includes('broken')),
  });
  const api = new AppsApi(cluster, controller);
  const requests: RecordedRequest[] = [];
  const failures: number[] = [];
  const denied = new Set<string>();
  const watches = new Set<() => void>();

  const server = createServer(
    createRouter({ api, cluster, requests, failures, denied, watches, token: options.token, user }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const key = keyOf(namespace, deploymentName);
  const current = () => cluster.deployments.get(key);

  async function waitFor(what: string, done: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`Kubernetes fake: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, Math.max(1, Math.floor(stepMs / 2))));
    }
  }

  const observed = (d: Deployment | undefined) =>
    d !== undefined && (d.status.observedGeneration ?? 0) >= d.metadata.generation;

  function ship(image: string, deployOptions: DeployOptions): void {
    const cause = deployOptions.changeCause ?? `deploy ${image}`;
    let d = current();
    if (!d) {
      d = defaultDeployment(
        cluster,
        { namespace, name: deploymentName, container: containerName, replicas: options.replicas ?? 2 },
        image,
      );
      d.metadata.annotations = { [CHANGE_CAUSE_ANNOTATION]: cause };
      cluster.saveDeployment(d, 'ADDED');
    } else {
      const containers = containersOf(d.spec.template);
      const container = containers.find((c) => c.name === containerName) ?? containers[0];
      if (!container) throw new Error('Kubernetes fake: the deployment has no container');
      container.image = image;
      d.metadata.annotations = { ...d.metadata.annotations, [CHANGE_CAUSE_ANNOTATION]: cause };
      d.metadata.generation++;
      cluster.saveDeployment(d);
    }
    controller.enqueue(namespace, deploymentName, 0);
  }

  const fake: KubernetesFake = {
    url: `http://127.0.0.1:${port}`,
    namespace,
    deploymentName,
    requests,
    deployment: () => {
      const d = current();
      if (!d) throw new Error('Kubernetes fake: nothing deployed yet');
      return deploymentToWire(d);
    },
    replicaSets: () => [...cluster.replicaSets.values()].map(replicaSetToWire),
    snapshot: () => {
      const d = current();
      if (!d) throw new Error('Kubernetes fake: nothing deployed yet');
      const images = (t: JsonObject) => containersOf(t).map((c) => String(c.image));
      return {
        revision: d.metadata.annotations?.['deployment.kubernetes.io/revision'],
        images: images(d.spec.template),
        replicas: d.spec.replicas,
        paused: d.spec.paused === true,
        generation: d.metadata.generation,
        replicaSets: [...cluster.replicaSets.values()]
          .filter((rs) => rs.metadata.namespace === namespace)
          .map((rs) => ({
            revision: revisionOf(rs.metadata),
            revisionHistory: rs.metadata.annotations?.['deployment.kubernetes.io/revision-history'],
            images: images(rs.spec.template),
            replicas: rs.spec.replicas,
          }))
          .sort((a, b) => a.revision - b.revision),
      };
    },
    async deploy(image, deployOptions = {}) {
      ship(image, deployOptions);
      await fake.waitForRollout();
    },
    async deployBroken(image, deployOptions = {}) {
      ship(image, deployOptions);
      await waitFor(`the controller to observe ${image}`, () => {
        const d = current();
        return observed(d) && d !== undefined && getCondition(d.status, 'Progressing') !== undefined;
      });
    },
    waitForRollout: () =>
      waitFor('the rollout to complete', () => {
        const d = current();
        return observed(d) && d !== undefined && isComplete(d);
      }),
    setPaused(paused) {
      const d = current();
      if (!d) throw new Error('Kubernetes fake: nothing deployed yet');
      if (paused) d.spec.paused = true;
      else delete d.spec.paused;
      d.metadata.generation++;
      cluster.saveDeployment(d);
      controller.enqueue(namespace, deploymentName, 0);
    },
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    deny(verb, resource) {
      denied.add(`${verb} ${resource}`);
    },
    async close() {
      controller.close();
      for (const end of watches) end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
