import { performance } from 'node:perf_hooks';
import { type Cluster, keyOf } from './cluster.ts';
import {
  byCreation,
  fenceposts,
  getCondition,
  isComplete,
  sum,
  templateImages,
  templateLabels,
} from './deployment-util.ts';
import { equalIgnoreHash, podTemplateHash } from './hash.ts';
import { cloneJson, isJsonObject } from './json.ts';
import {
  ANNOTATIONS_NOT_COPIED,
  type Condition,
  DESIRED_REPLICAS_ANNOTATION,
  type Deployment,
  type DeploymentStatus,
  isControlledBy,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  type ReplicaSet,
  revisionOf,
} from './resources.ts';

/**
 * What kube-controller-manager's deployment controller does, one sync step at a time
 * (pkg/controller/deployment: sync.go, rolling.go, progress.go, util/deployment_util.go):
 * a ReplicaSet per distinct pod template, revision numbers (an old template reused moves to
 * max+1 and keeps its former numbers in revision-history), rolling updates bounded by maxSurge and
 * maxUnavailable, status and conditions, the progress deadline, and history cleanup.
 *
 * Pods are not modelled one by one: a ReplicaSet's pods reach its spec one step after the controller
 * changed it, and they become available unless an image is broken (then they never do).
 */

export interface ControllerOptions {
  /** Time between sync steps (the controller and the kubelet catching up). */
  stepMs: number;
  /** Overrides spec.progressDeadlineSeconds, so tests can see ProgressDeadlineExceeded quickly. */
  progressDeadlineMs: number | undefined;
  isBrokenImage: (image: string) => boolean;
}

export class DeploymentController {
  readonly #cluster: Cluster;
  readonly #options: ControllerOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** performance.now() of the last progress, per deployment, for the progress deadline. */
  readonly #lastProgress = new Map<string, number>();
  #closed = false;

  constructor(cluster: Cluster, options: ControllerOptions) {
    this.#cluster = cluster;
    this.#options = options;
  }

  /** Schedules a sync of the deployment `delayMs` from now (coalescing with one already due). */
  enqueue(namespace: string, name: string, delayMs = this.#options.stepMs): void {
    if (this.#closed) return;
    const key = keyOf(namespace, name);
    const existing = this.#timers.get(key);
    if (existing) clearTimeout(existing);
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        this.sync(key);
      }, delayMs),
    );
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #healthy(rs: ReplicaSet): boolean {
    return !templateImages(rs.spec.template).some((image) => this.#options.isBrokenImage(image));
  }

  #deadlineMs(d: Deployment): number {
    return this.#options.progressDeadlineMs ?? d.spec.progressDeadlineSeconds * 1000;
  }

  /** One sync of one deployment, as syncDeployment does it. */
  sync(key: string): void {
    const d = this.#cluster.deployments.get(key);
    if (!d || this.#closed) return;
    const before = JSON.stringify({ meta: d.metadata.annotations, status: d.status });
    const owned = [...this.#cluster.replicaSets.values()]
      .filter((rs) => rs.metadata.namespace === d.metadata.namespace && isControlledBy(rs, d))
      .sort(byCreation);

    let moved = this.#podsCatchUp(owned);
    let newRS = owned.find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
    const oldRSs = owned.filter((rs) => rs !== newRS);

    if (d.spec.paused) {
      this.#setCondition(d, 'Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
      const active = newRS ?? [...oldRSs].sort((a, b) => revisionOf(b.metadata) - revisionOf(a.metadata))[0];
      if (active && oldRSs.every((rs) => rs === active || rs.spec.replicas === 0)) {
        moved = this.#scale(active, d.spec.replicas, d) || moved;
      }
    } else {
      const resumed = getCondition(d.status, 'Progressing')?.reason === 'DeploymentPaused';
      if (resumed)
        this.#setCondition(d, 'Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed');
      const newRevision = Math.max(0, ...oldRSs.map((rs) => revisionOf(rs.metadata))) + 1;
      if (newRS) {
        this.#adoptAsNew(d, newRS, newRevision);
      } else {
        newRS = this.#createReplicaSet(d, newRevision, owned);
        moved = true;
      }
      this.#setAnnotation(d, REVISION_ANNOTATION, String(revisionOf(newRS.metadata)));
      moved = this.#rollout(d, newRS, oldRSs) || moved;
    }

    const previous = d.status;
    const status = this.#calculateStatus(d, owned, newRS);
    d.status = status;
    if (!d.spec.paused && newRS) this.#progress(d, previous, status, newRS);
    if (!d.spec.paused && isComplete(d)) this.#cleanup(d, oldRSs);

    if (JSON.stringify({ meta: d.metadata.annotations, status: d.status }) !== before)
      this.#cluster.saveDeployment(d);
    this.#scheduleNext(d, moved);
  }

  /** The kubelet's part: every ReplicaSet's pods reach the size it was given one step ago. */
  #podsCatchUp(sets: ReplicaSet[]): boolean {
    let moved = false;
    for (const rs of sets) {
      const available = this.#healthy(rs) ? rs.spec.replicas : 0;
      const s = rs.status;
      if (
        s.replicas !== rs.spec.replicas ||
        s.availableReplicas !== available ||
        s.readyReplicas !== available ||
        s.observedGeneration !== rs.metadata.generation
      ) {
        rs.status = {
          replicas: rs.spec.replicas,
          readyReplicas: available,
          availableReplicas: available,
          observedGeneration: rs.metadata.generation,
        };
        this.#cluster.saveReplicaSet(rs);
        moved = true;
      }
    }
    return moved;
  }

  #setAnnotation(d: Deployment, key: string, value: string): void {
    d.metadata.annotations = { ...d.metadata.annotations, [key]: value };
  }

  /** copyDeploymentAnnotationsToReplicaSet. */
  #copiedAnnotations(d: Deployment): Record<string, string> {
    return Object.fromEntries(
      Object.entries(d.metadata.annotations ?? {}).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
    );
  }

  /** SetNewReplicaSetAnnotations on an existing ReplicaSet whose template the deployment uses again. */
  #adoptAsNew(d: Deployment, rs: ReplicaSet, newRevision: number): void {
    const annotations = { ...rs.metadata.annotations, ...this.#copiedAnnotations(d) };
    const oldRevision = rs.metadata.annotations?.[REVISION_ANNOTATION];
    const oldNumber = revisionOf(rs.metadata);
    if (oldNumber < newRevision) {
      annotations[REVISION_ANNOTATION] = String(newRevision);
      if (oldRevision !== undefined) {
        const history = annotations[REVISION_HISTORY_ANNOTATION];
        annotations[REVISION_HISTORY_ANNOTATION] = history ? `${history},${oldRevision}` : oldRevision;
      }
    }
    if (JSON.stringify(annotations) !== JSON.stringify(rs.metadata.annotations)) {
      rs.metadata.annotations = annotations;
      this.#cluster.saveReplicaSet(rs);
    }
    if (!getCondition(d.status, 'Progressing')) {
      this.#setCondition(
        d,
        'Progressing',
        'True',
        'FoundNewReplicaSet',
        `Found new replica set "${rs.metadata.name}"`,
      );
      this.#lastProgress.set(keyOf(d.metadata.namespace, d.metadata.name), performance.now());
    }
  }

  #createReplicaSet(d: Deployment, revision: number, owned: ReplicaSet[]): ReplicaSet {
    let collisions = d.status.collisionCount ?? 0;
    let hash = podTemplateHash(d.spec.template, collisions);
    // A name taken by a different template is a hash collision: count it and hash again.
    while (this.#cluster.replicaSets.has(keyOf(d.metadata.namespace, `${d.metadata.name}-${hash}`))) {
      collisions++;
      hash = podTemplateHash(d.spec.template, collisions);
    }
    if (collisions !== (d.status.collisionCount ?? 0)) d.status.collisionCount = collisions;
    const template = cloneJson(d.spec.template);
    const metadata = isJsonObject(template.metadata) ? template.metadata : {};
    const labels = { ...templateLabels(template), [POD_TEMPLATE_HASH_LABEL]: hash };
    metadata.labels = labels;
    template.metadata = metadata;
    const { surge } = fenceposts(d);
    const name = `${d.metadata.name}-${hash}`;
    const rs: ReplicaSet = {
      metadata: {
        name,
        namespace: d.metadata.namespace,
        uid: this.#cluster.newUid(),
        resourceVersion: '0',
        generation: 1,
        creationTimestamp: this.#cluster.now(),
        labels,
        annotations: {
          ...this.#copiedAnnotations(d),
          [REVISION_ANNOTATION]: String(revision),
          [DESIRED_REPLICAS_ANNOTATION]: String(d.spec.replicas),
          [MAX_REPLICAS_ANNOTATION]: String(d.spec.replicas + surge),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name,
            uid: d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: 0,
        selector: {
          ...d.spec.selector,
          matchLabels: { ...d.spec.selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash },
        },
        template,
        ...(d.spec.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
      },
      status: { replicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 0 },
    };
    this.#cluster.saveReplicaSet(rs, 'ADDED');
    owned.push(rs);
    this.#setCondition(d, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`);
    this.#lastProgress.set(keyOf(d.metadata.namespace, d.metadata.name), performance.now());
    return rs;
  }

  /** Sets spec.replicas (and the desired/max annotations) on a ReplicaSet; true if it changed. */
  #scale(rs: ReplicaSet, replicas: number, d: Deployment): boolean {
    if (rs.spec.replicas === replicas) return false;
    const { surge } = fenceposts(d);
    rs.spec.replicas = replicas;
    rs.metadata.generation++;
    rs.metadata.annotations = {
      ...rs.metadata.annotations,
      [DESIRED_REPLICAS_ANNOTATION]: String(d.spec.replicas),
      [MAX_REPLICAS_ANNOTATION]: String(d.spec.replicas + surge),
    };
    this.#cluster.saveReplicaSet(rs);
    return true;
  }

  /** rolloutRolling / rolloutRecreate: one scaling action per sync. */
  #rollout(d: Deployment, newRS: ReplicaSet, oldRSs: ReplicaSet[]): boolean {
    const desired = d.spec.replicas;
    if (d.spec.strategy.type === 'Recreate') {
      const running = oldRSs.filter((rs) => rs.spec.replicas > 0);
      if (running.length > 0) return running.map((rs) => this.#scale(rs, 0, d)).some(Boolean);
      if (oldRSs.some((rs) => rs.status.replicas > 0)) return false;
      return this.#scale(newRS, desired, d);
    }
    const { surge, unavailable } = fenceposts(d);
    const all = [...oldRSs, newRS];
    // reconcileNewReplicaSet
    if (newRS.spec.replicas > desired) return this.#scale(newRS, desired, d);
    if (newRS.spec.replicas < desired) {
      const current = sum(all, (rs) => rs.spec.replicas);
      const room = desired + surge - current;
      if (room > 0)
        return this.#scale(newRS, newRS.spec.replicas + Math.min(room, desired - newRS.spec.replicas), d);
    }
    // reconcileOldReplicaSets
    if (sum(oldRSs, (rs) => rs.spec.replicas) === 0) return false;
    const minAvailable = desired - unavailable;
    const newUnavailable = newRS.spec.replicas - newRS.status.availableReplicas;
    const maxScaledDown = sum(all, (rs) => rs.spec.replicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let scaled = false;
    let cleaned = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = rs.spec.replicas - rs.status.availableReplicas;
      if (rs.spec.replicas === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      scaled = this.#scale(rs, rs.spec.replicas - down, d) || scaled;
      cleaned += down;
    }
    const available = sum(all, (rs) => Math.min(rs.status.availableReplicas, rs.spec.replicas));
    let toScaleDown = available - minAvailable;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (toScaleDown <= 0) break;
      if (rs.spec.replicas === 0) continue;
      const down = Math.min(rs.spec.replicas, toScaleDown);
      scaled = this.#scale(rs, rs.spec.replicas - down, d) || scaled;
      toScaleDown -= down;
    }
    return scaled;
  }

  /** calculateStatus. */
  #calculateStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const available = sum(all, (rs) => rs.status.availableReplicas);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation,
      replicas: sum(all, (rs) => rs.status.replicas),
      updatedReplicas: newRS ? newRS.status.replicas : 0,
      readyReplicas: sum(all, (rs) => rs.status.readyReplicas),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, d.spec.replicas - available),
      conditions: d.status.conditions,
      ...(d.status.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    };
    const { unavailable } = fenceposts(d);
    const target = { ...d, status };
    if (available >= d.spec.replicas - unavailable) {
      this.#setCondition(
        target,
        'Available',
        'True',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
      );
    } else {
      this.#setCondition(
        target,
        'Available',
        'False',
        'MinimumReplicasUnavailable',
        'Deployment does not have minimum availability.',
      );
    }
    return target.status;
  }

  /** syncRolloutStatus: the Progressing condition. */
  #progress(d: Deployment, previous: DeploymentStatus, status: DeploymentStatus, newRS: ReplicaSet): void {
    const key = keyOf(d.metadata.namespace, d.metadata.name);
    const name = newRS.metadata.name;
    const current = getCondition(status, 'Progressing');
    const made =
      status.updatedReplicas > previous.updatedReplicas ||
      status.replicas - status.updatedReplicas < previous.replicas - previous.updatedReplicas ||
      status.readyReplicas > previous.readyReplicas ||
      status.availableReplicas > previous.availableReplicas;
    if (isComplete(d, status)) {
      this.#setCondition(
        d,
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${name}" has successfully progressed.`,
      );
    } else if (made) {
      const now = this.#cluster.now();
      const condition: Condition = {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        message: `ReplicaSet "${name}" is progressing.`,
        lastUpdateTime: now,
        lastTransitionTime: current?.status === 'True' ? current.lastTransitionTime : now,
      };
      status.conditions = [...status.conditions.filter((c) => c.type !== 'Progressing'), condition];
      this.#lastProgress.set(key, performance.now());
    } else if (current && current.reason !== 'NewReplicaSetAvailable' && this.#timedOut(d)) {
      this.#setCondition(
        d,
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${name}" has timed out progressing.`,
      );
    }
  }

  #timedOut(d: Deployment): boolean {
    const current = getCondition(d.status, 'Progressing');
    if (current?.reason === 'ProgressDeadlineExceeded') return true;
    const last = this.#lastProgress.get(keyOf(d.metadata.namespace, d.metadata.name));
    return last !== undefined && performance.now() - last > this.#deadlineMs(d);
  }

  /** SetDeploymentCondition: unchanged when status and reason are the same. */
  #setCondition(
    d: Deployment,
    type: string,
    status: Condition['status'],
    reason: string,
    message: string,
  ): void {
    const current = getCondition(d.status, type);
    if (current && current.status === status && current.reason === reason) return;
    const now = this.#cluster.now();
    const condition: Condition = {
      type,
      status,
      reason,
      message,
      lastUpdateTime: now,
      lastTransitionTime: current && current.status === status ? current.lastTransitionTime : now,
    };
    d.status = {
      ...d.status,
      conditions: [...d.status.conditions.filter((c) => c.type !== type), condition],
    };
  }

  /** cleanupDeployment: drops the oldest idle ReplicaSets beyond revisionHistoryLimit. */
  #cleanup(d: Deployment, oldRSs: ReplicaSet[]): void {
    const idle = oldRSs
      .filter(
        (rs) =>
          rs.spec.replicas === 0 &&
          rs.status.replicas === 0 &&
          this.#cluster.replicaSets.has(keyOf(rs.metadata.namespace, rs.metadata.name)),
      )
      .sort((a, b) => revisionOf(a.metadata) - revisionOf(b.metadata));
    const excess = idle.length - d.spec.revisionHistoryLimit;
    for (const rs of idle.slice(0, Math.max(0, excess))) this.#cluster.deleteReplicaSet(rs);
  }

  #scheduleNext(d: Deployment, moved: boolean): void {
    if (d.spec.paused || isComplete(d)) {
      if (moved) this.enqueue(d.metadata.namespace, d.metadata.name);
      return;
    }
    if (moved) {
      this.enqueue(d.metadata.namespace, d.metadata.name);
      return;
    }
    if (getCondition(d.status, 'Progressing')?.reason === 'ProgressDeadlineExceeded') return;
    const last = this.#lastProgress.get(keyOf(d.metadata.namespace, d.metadata.name)) ?? performance.now();
    const wait = Math.max(1, last + this.#deadlineMs(d) - performance.now() + 1);
    this.enqueue(d.metadata.namespace, d.metadata.name, wait);
  }
}
