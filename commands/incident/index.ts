import type { SlashCommandSpec } from '../../src/slack/command.ts';
import { help } from '../help.ts';

/** `/incident`: declare and run incidents. */
export const incidentCommand: SlashCommandSpec = {
  command: '/incident',
  description: 'Declare and run incidents: severity, roles, status updates, timeline and resolution.',
  subcommands: [help],
};
