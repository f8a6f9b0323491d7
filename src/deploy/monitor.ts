/**
 * Start-up and periodic sweeps of deploy operations: unconfirmed cards past their time expire, and
 * operations whose runner is gone (a crash) are resumed or marked interrupted. Every replica sweeps;
 * the compare-and-sets make each operation move once.
 */
import type { Logger } from '../logger.ts';
import type { DeployService } from './deploy-service.ts';

export const DEPLOY_SWEEP_MS = 5_000;

export function startDeployMonitor(options: {
  deploy: () => DeployService;
  logger: Logger;
  track: (work: Promise<unknown>) => void;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const sweep = async (): Promise<void> => {
    const deploy = options.deploy();
    try {
      await deploy.expireDue();
      for (const run of await deploy.resumeOrphaned()) options.track(run);
    } catch (error) {
      options.logger.warn({ err: error }, 'deploy sweep failed; trying again later');
    }
  };
  inFlight = sweep();
  const timer = setInterval(() => {
    if (stopped) return;
    inFlight = inFlight.then(sweep);
  }, options.intervalMs ?? DEPLOY_SWEEP_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
