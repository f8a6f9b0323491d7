/** `/incident list`: one line per open incident (severity, age, commander), within Slack's limits. */
import type { Block, KnownBlock } from '@slack/types';
import { formatDistanceStrict } from 'date-fns/formatDistanceStrict';
import { listEmpty } from '../../../../templates/incident.ts';
import type { Incident } from '../../../incidents/incident.ts';
import { STATUS_LABEL } from '../../../incidents/status.ts';
import type { Reply } from '../../kit/command.ts';
import { LIMITS, truncateMrkdwn } from '../../kit/limits.ts';
import { incidentLine } from './headline.ts';

export function incidentListLine(incident: Incident, now: Date): string {
  const age = formatDistanceStrict(incident.startedAt, now);
  const where = incident.channelId ? ` · <#${incident.channelId}>` : '';
  const commander = incident.commander ? `<@${incident.commander}>` : '_no commander_';
  return `• *${incidentLine(incident, 120)}* · ${STATUS_LABEL[incident.status]} · ${age} · ${commander}${where}`;
}

export function buildIncidentList(incidents: readonly Incident[], now: Date): Reply {
  if (incidents.length === 0) return { text: listEmpty };
  const header = `*Open incidents (${incidents.length})*`;
  const lines = incidents.map((i) => truncateMrkdwn(incidentListLine(i, now), 500));
  const sections: string[] = [];
  let current = header;
  for (const line of lines) {
    if (current.length + line.length + 1 > LIMITS.sectionText) {
      sections.push(current);
      current = line;
    } else current = `${current}\n${line}`;
  }
  sections.push(current);
  const shown = sections.slice(0, LIMITS.messageBlocks - 1);
  const blocks: (KnownBlock | Block)[] = shown.map((text) => ({
    type: 'section',
    text: { type: 'mrkdwn', text },
  }));
  if (sections.length > shown.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'More open incidents not shown.' }] });
  }
  return { text: truncateMrkdwn(sections[0] ?? header, LIMITS.fallbackText), blocks };
}
