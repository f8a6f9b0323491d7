/**
 * Finishes incident setups that were cut short (the bot was killed between the incident's row and its
 * Slack setup): at start-up, and then every SWEEP_MS, since a killed replica's claims only free up
 * when their lease runs out. One run at a time, claimed in Postgres, so replicas starting together
 * never set up one incident twice. Logged, bounded, and never fatal.
 */
import { setupFinishedLater } from '../../../templates/incident.ts';
import { incidentId } from '../../incidents/incident.ts';
import { INCIDENT_SETUP_FLOW } from '../../incidents/incident-service.ts';
import { outcomeText, runIncidentSetup } from './flows.ts';
import {
  type IncidentSlackContext,
  incidentLink,
  SETUP_STEPS,
  setupInputSchema,
  tellUser,
} from './incident-slack.ts';

/** How often unfinished setups are looked for (a killed replica's lease is 30 s). */
export const SETUP_SWEEP_MS = 15_000;
/** Setups finished per sweep at most; the rest wait for the next sweep. */
const SWEEP_BATCH = 20;

export interface SetupRecovery {
  /** Stops looking; a sweep under way finishes the run it is on (it is in services.inFlight). */
  stop(): void;
}

export function startSetupRecovery(ctx: IncidentSlackContext, intervalMs = SETUP_SWEEP_MS): SetupRecovery {
  const { services, logger } = ctx;
  let stopped = false;
  let sweeping = false;

  const finishOne = async (): Promise<boolean> => {
    const [run] = await services.flows.claimPending(INCIDENT_SETUP_FLOW, 1);
    if (!run) return false;
    const number = Number(run.subject);
    const done = SETUP_STEPS.filter((name) => run.step(name) !== undefined);
    logger.warn(
      { incident: number, attempt: run.attempts, done },
      `finishing the Slack setup of ${incidentId(number)}, cut short before (steps done: ${done.join(', ') || 'none'})`,
    );
    const outcome = await runIncidentSetup(ctx, run);
    logger.info({ incident: number, failures: outcome.failures }, 'incident setup finished after a restart');
    const input = setupInputSchema.safeParse(run.input);
    const replyChannelId = input.success ? input.data.replyChannelId : undefined;
    const id = incidentId(number);
    await tellUser(
      ctx,
      { userId: outcome.incident.declaredBy, channelId: replyChannelId },
      outcomeText(
        outcome.incident,
        setupFinishedLater({ id, where: await incidentLink(ctx, outcome.incident) }),
        outcome.failures,
      ),
    );
    return true;
  };

  const sweep = async (): Promise<void> => {
    if (sweeping || stopped) return;
    sweeping = true;
    try {
      await services.flows.abandonExhausted(INCIDENT_SETUP_FLOW);
      for (let i = 0; i < SWEEP_BATCH && !stopped; i++) {
        if (!(await finishOne())) break;
      }
    } catch (error) {
      logger.error({ err: error }, 'could not finish unfinished incident setups (will try again)');
    } finally {
      sweeping = false;
    }
  };

  const tick = () => {
    void services.inFlight.track('incident setup recovery', sweep());
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
