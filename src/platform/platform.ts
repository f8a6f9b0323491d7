/**
 * One interface over Cloud Run, Azure App Service and Kubernetes, so that /deploy never knows
 * which cloud it talks to. An adapter instance is bound to one configured service.
 */

export type PlatformKind = 'cloudrun' | 'appservice' | 'kubernetes';

export interface TrafficTarget {
  /** Revision id (Cloud Run revision name); `latest` for the latest ready revision. */
  revision: string;
  percent: number;
}

export interface PlatformStatus {
  kind: PlatformKind;
  /** Human name: "barq-api (project p, region r)". */
  target: string;
  /** Current revision id (Cloud Run revision, K8s revision number, App Service deployment id). */
  revision: string | undefined;
  image: string | undefined;
  /** Traffic split where the platform has one (Cloud Run). */
  traffic?: TrafficTarget[];
  replicas: { desired: number | undefined; ready: number | undefined };
  ready: boolean;
  /** The platform's own words when not ready (e.g. ProgressDeadlineExceeded, Stopped). */
  reason?: string;
  maintenance: boolean;
}

export interface Revision {
  id: string;
  image: string | undefined;
  createdAt: Date | undefined;
  /** Who or what caused it, where the platform knows (change-cause annotation, deployer). */
  cause?: string;
  /** True for the revision currently serving. */
  current: boolean;
}

/** What an operation changed, stated plainly. */
export interface ChangeResult {
  action: 'rollback' | 'restart' | 'scale' | 'maintenance' | 'traffic';
  from: string;
  to: string;
  /** One line for humans: "rolled back barq-api from barq-api-00042-xyz to barq-api-00041-abc". */
  summary: string;
  changed: boolean;
}

export interface SettleResult {
  settled: boolean;
  /** Why not, or the final state. */
  detail: string;
  waitedMs: number;
}

/** One step of a gradual roll-out: `percent` of traffic to `toRevision`, the rest to `fromRevision`. */
export interface TrafficStep {
  fromRevision: string;
  toRevision: string;
  percent: number;
}

/**
 * Gradual traffic to a revision that is already deployed (Cloud Run's split between revisions, App
 * Service's routing rule to the staging slot and a swap at 100 %). Each call is declarative: making it
 * twice leaves the same traffic (a step re-run after a crash repeats nothing).
 */
export interface TrafficSteps {
  /** Checks `revision` can take traffic; names the revision serving now (to go back to). */
  prepare(
    revision: string,
  ): Promise<{ fromRevision: string; toRevision: string; toImage: string | undefined }>;
  shift(step: TrafficStep): Promise<ChangeResult>;
  /** All traffic back on `fromRevision`. */
  revert(step: Omit<TrafficStep, 'percent'>): Promise<ChangeResult>;
}

export interface Platform {
  readonly kind: PlatformKind;
  /** Gradual roll-outs; undefined where the platform has no traffic split (Kubernetes). */
  readonly trafficSteps?: TrafficSteps;
  status(): Promise<PlatformStatus>;
  /** Recent revisions, newest first. */
  history(limit?: number): Promise<Revision[]>;
  /** To the previous good revision, or to a given one. */
  rollback(options?: { toRevision?: string }): Promise<ChangeResult>;
  restart(): Promise<ChangeResult>;
  /** To N replicas/instances; the caller checks configured bounds, adapters check again. */
  scale(replicas: number): Promise<ChangeResult>;
  setMaintenance(on: boolean): Promise<ChangeResult>;
  /** The platform's own notion of done, within a deadline. */
  waitUntilSettled(options: { timeoutMs: number; pollMs?: number }): Promise<SettleResult>;
  /** Split traffic between revisions (Cloud Run only; others throw UnsupportedOperationError). */
  setTraffic?(targets: TrafficTarget[]): Promise<ChangeResult>;
  /**
   * Releases the SDK clients and their connections (at shutdown). Idempotent; a call made after it
   * fails with PlatformError `unavailable`.
   */
  close(): Promise<void>;
}
