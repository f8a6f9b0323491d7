import type { SlashCommandSpec } from '../../src/slack/kit/command.ts';
import { help } from '../help.ts';
import { deployAudit } from './audit.ts';
import { deployFreeze } from './freeze.ts';
import { deployHealth } from './health.ts';
import { deployHistory } from './history.ts';
import { deployMaintenance } from './maintenance.ts';
import { deployRestart } from './restart.ts';
import { deployRollback } from './rollback.ts';
import { deployRollout } from './rollout.ts';
import { deployScale } from './scale.ts';
import { deployStatus } from './status.ts';
import { deployTraffic } from './traffic.ts';
import { deployUnfreeze } from './unfreeze.ts';

/** `/deploy`: health, status and operations on services. */
export const deployCommand: SlashCommandSpec = {
  command: '/deploy',
  description:
    'Check health and run deploy operations on services (status, history, rollback, restart, scale, maintenance).',
  subcommands: [
    help,
    deployHealth,
    deployStatus,
    deployHistory,
    deployRollback,
    deployRestart,
    deployScale,
    deployMaintenance,
    deployTraffic,
    deployRollout,
    deployAudit,
    deployFreeze,
    deployUnfreeze,
  ],
};
