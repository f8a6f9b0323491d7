/**
 * Texts of incident messages, in the format of the BARQ communication template
 * (Status, Impact, Started, Team, Next update) and its resolution template
 * (Resolution, Duration, Root Cause, post-mortem within 48 hours).
 * Values passed in are already escaped for mrkdwn and times are Slack date tokens.
 */

export interface UpdateFields {
  severity: string;
  title: string;
  status: string;
  impact: string;
  started: string;
  team: string;
  nextStep?: string;
  nextUpdate: string;
}

export const updateSubject = (f: { severity: string; title: string }): string => `[${f.severity}] ${f.title}`;

export const updateBody = (f: UpdateFields): string =>
  [
    `*Status:* ${f.status}`,
    `*Impact:* ${f.impact}`,
    `*Started:* ${f.started}`,
    `*Team:* ${f.team}`,
    ...(f.nextStep ? [`*Next step:* ${f.nextStep}`] : []),
    '',
    `*Next update:* ${f.nextUpdate}`,
  ].join('\n');

export interface ResolutionFields {
  severity: string;
  title: string;
  resolution: string;
  duration: string;
  rootCause: string;
  postMortemRequired: boolean;
  postMortemDue?: string;
}

export const resolutionSubject = (f: { severity: string; title: string }): string =>
  `[${f.severity} - RESOLVED] ${f.title}`;

export const resolutionBody = (f: ResolutionFields): string =>
  [
    '*Status:* Resolved',
    `*Resolution:* ${f.resolution}`,
    `*Duration:* ${f.duration}`,
    `*Root Cause:* ${f.rootCause}`,
    ...(f.postMortemRequired
      ? [
          '',
          `*Post-mortem:* Will be published within 48 hours${f.postMortemDue ? ` (by ${f.postMortemDue})` : ''}`,
        ]
      : []),
  ].join('\n');

export const declaredAnnouncement = (f: {
  id: string;
  severity: string;
  title: string;
  commander: string;
}): string => `${f.id} declared: [${f.severity}] ${f.title}. Commander: ${f.commander}.`;

export const severityChanged = (f: {
  id: string;
  from: string;
  to: string;
  actor: string;
  reason: string;
}): string =>
  `:arrows_counterclockwise: ${f.id} severity changed from *${f.from}* to *${f.to}* by ${f.actor}.\n*Reason:* ${f.reason}`;

export const roleAssigned = (f: { id: string; role: string; user: string; actor: string }): string =>
  `:bust_in_silhouette: ${f.user} is now *${f.role}* of ${f.id} (assigned by ${f.actor}).`;

export const channelTopic = (f: {
  id: string;
  severity: string;
  status: string;
  commander: string;
  title: string;
}): string => `${f.id} | ${f.severity} | ${f.status} | Commander: ${f.commander} | ${f.title}`;

export const notInIncident = (command: string): string =>
  `\`${command}\` works inside an incident: run it in the incident's channel (or its thread in #incidents), or name the incident, e.g. \`${command} INC-42\`. \`/incident list\` shows the open ones.`;

export const reopened = (f: { id: string; actor: string }): string =>
  `:leftwards_arrow_with_hook: ${f.id} reopened by ${f.actor}.`;
