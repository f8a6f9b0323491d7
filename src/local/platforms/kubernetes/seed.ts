import { DEFAULT_STRATEGY } from './api.ts';
import type { Cluster } from './cluster.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import type { Deployment } from './resources.ts';

/** The Deployment the fake's first deploy() creates, shaped as the API server stores one. */

export function defaultDeployment(
  cluster: Cluster,
  options: { namespace: string; name: string; container: string; replicas: number },
  image: string,
): Deployment {
  const labels = { app: options.name };
  return {
    metadata: {
      name: options.name,
      namespace: options.namespace,
      uid: cluster.newUid(),
      resourceVersion: '0',
      generation: 1,
      creationTimestamp: cluster.now(),
      labels,
    },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: options.container,
              image,
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: DEFAULT_STRATEGY,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: 0,
      conditions: [],
    },
  };
}

export function containersOf(template: JsonObject): JsonObject[] {
  const spec = template.spec;
  return isJsonObject(spec) && Array.isArray(spec.containers) ? spec.containers.filter(isJsonObject) : [];
}
