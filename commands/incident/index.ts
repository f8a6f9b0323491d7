import type { SlashCommandSpec } from '../../src/slack/kit/command.ts';
import { help } from '../help.ts';
import { declare } from './declare.ts';
import { escalate } from './escalate.ts';
import { followup } from './followup.ts';
import { incidentHealth } from './health.ts';
import { list } from './list.ts';
import { note } from './note.ts';
import { postmortem } from './postmortem.ts';
import { reopen } from './reopen.ts';
import { resolve } from './resolve.ts';
import { role } from './role.ts';
import { severity } from './severity.ts';
import { stats } from './stats.ts';
import { status } from './status.ts';
import { timeline } from './timeline.ts';
import { update } from './update.ts';

/** `/incident`: declare and run incidents. */
export const incidentCommand: SlashCommandSpec = {
  command: '/incident',
  description: 'Declare and run incidents: severity, roles, status updates, timeline and resolution.',
  subcommands: [
    help,
    declare,
    update,
    status,
    list,
    role,
    severity,
    resolve,
    reopen,
    escalate,
    incidentHealth,
    note,
    timeline,
    stats,
    postmortem,
    followup,
  ],
};
