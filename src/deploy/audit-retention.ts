/**
 * Audit retention: records older than `audit.retention` are deleted at start-up and then daily. The
 * prune holds a Postgres advisory lock, so replicas running it together delete each record once and
 * never wait for one another. Failures are logged and retried at the next sweep, never fatal.
 */
import type { InFlight } from '../in-flight.ts';
import { AuditLog, type AuditLogDeps, type PruneOutcome } from './audit.ts';

/** How often the prune runs after the one at start-up. */
export const AUDIT_RETENTION_SWEEP_MS = 86_400_000;

export interface AuditRetention {
  /** Runs one prune now (after any running one); undefined when it failed (logged). */
  sweep(): Promise<PruneOutcome | undefined>;
  /** Stops the daily sweep; a prune under way finishes its batch (it is in flight). */
  stop(): void;
}

export function startAuditRetention(
  deps: AuditLogDeps & { inFlight: InFlight; retentionMs: number },
  intervalMs = AUDIT_RETENTION_SWEEP_MS,
): AuditRetention {
  const log = new AuditLog(deps);
  const logger = deps.logger.child({ component: 'audit-retention' });
  let stopped = false;
  let running: Promise<PruneOutcome | undefined> = Promise.resolve(undefined);

  const prune = async (): Promise<PruneOutcome | undefined> => {
    if (stopped) return undefined;
    try {
      return await log.prune(deps.retentionMs);
    } catch (error) {
      logger.error(
        { err: error },
        'audit retention: could not delete expired audit records (will try again)',
      );
      return undefined;
    }
  };
  const sweep = (): Promise<PruneOutcome | undefined> => {
    running = running.then(prune);
    return deps.inFlight.track('audit retention', running);
  };

  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  void sweep();
  return {
    sweep,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
