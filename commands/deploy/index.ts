import type { SlashCommandSpec } from '../../src/slack/kit/command.ts';
import { help } from '../help.ts';
import { deployHealth } from './health.ts';
import { deployRollback } from './rollback.ts';
import { deployStatus } from './status.ts';

/** `/deploy`: health, status and operations on services. */
export const deployCommand: SlashCommandSpec = {
  command: '/deploy',
  description:
    'Check health and run deploy operations on services (status, history, rollback, restart, scale, maintenance).',
  subcommands: [help, deployHealth, deployStatus, deployRollback],
};
