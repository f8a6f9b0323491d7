import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../clock.ts';
import { type JsonObject, rfc3339 } from './json.ts';
import { type Deployment, deploymentToWire, type ReplicaSet, replicaSetToWire } from './resources.ts';

/**
 * The fake's etcd: Deployments and ReplicaSets keyed by namespace/name, one global resourceVersion
 * counter bumped on every write, and an event log that watches replay from a resourceVersion.
 */

export type Resource = 'deployments' | 'replicasets';
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: WatchEventType;
  resource: Resource;
  namespace: string;
  name: string;
  resourceVersion: number;
  object: JsonObject;
}

/** How many past events a watch can resume from before it gets 410 Gone. */
const EVENT_LOG_SIZE = 2_000;

export const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class Cluster {
  readonly deployments = new Map<string, Deployment>();
  readonly replicaSets = new Map<string, ReplicaSet>();
  readonly clock: Clock;
  #resourceVersion = 1_000;
  #log: StoredEvent[] = [];
  #listeners = new Set<(event: StoredEvent) => void>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  now(): string {
    return rfc3339(this.clock.now());
  }

  newUid(): string {
    return randomUUID();
  }

  saveDeployment(d: Deployment, type: WatchEventType = 'MODIFIED'): void {
    d.metadata.resourceVersion = String(++this.#resourceVersion);
    this.deployments.set(keyOf(d.metadata.namespace, d.metadata.name), d);
    this.#emit(type, 'deployments', d.metadata.namespace, d.metadata.name, deploymentToWire(d));
  }

  saveReplicaSet(rs: ReplicaSet, type: WatchEventType = 'MODIFIED'): void {
    rs.metadata.resourceVersion = String(++this.#resourceVersion);
    this.replicaSets.set(keyOf(rs.metadata.namespace, rs.metadata.name), rs);
    this.#emit(type, 'replicasets', rs.metadata.namespace, rs.metadata.name, replicaSetToWire(rs));
  }

  deleteReplicaSet(rs: ReplicaSet): void {
    this.replicaSets.delete(keyOf(rs.metadata.namespace, rs.metadata.name));
    rs.metadata.resourceVersion = String(++this.#resourceVersion);
    this.#emit('DELETED', 'replicasets', rs.metadata.namespace, rs.metadata.name, replicaSetToWire(rs));
  }

  /** Events after `resourceVersion`, or undefined when the log no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoredEvent[] | undefined {
    const first = this.#log[0];
    if (first && first.resourceVersion > resourceVersion + 1 && this.#log.length >= EVENT_LOG_SIZE)
      return undefined;
    return this.#log.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(type: WatchEventType, resource: Resource, namespace: string, name: string, object: JsonObject): void {
    const event: StoredEvent = {
      type,
      resource,
      namespace,
      name,
      resourceVersion: this.#resourceVersion,
      object,
    };
    this.#log.push(event);
    if (this.#log.length > EVENT_LOG_SIZE) this.#log.shift();
    for (const listener of this.#listeners) listener(event);
  }
}
