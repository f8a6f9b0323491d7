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
  /** How long after the resolution it is due, when not 48 hours (incidents.postmortemDue), e.g. `3d`. */
  postMortemWithin?: string;
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
          `*Post-mortem:* Will be published within ${f.postMortemWithin ?? '48 hours'}${f.postMortemDue ? ` (by ${f.postMortemDue})` : ''}`,
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

// ---------------------------------------------------------------- core flows (declare, update, resolve)

const RETRY_HINT: Record<string, string> = {
  name_taken: 'every channel name tried was taken',
  ratelimited: 'Slack rate-limited the bot; try again in a minute',
  restricted_action: 'the workspace does not let the bot do this',
  missing_scope: 'the bot lacks a Slack permission (scope) for this',
  not_in_channel: 'the bot is not a member of that channel; invite it',
  channel_not_found: 'the bot cannot see that channel; invite it',
};

/** What could not be done in Slack, for the user (the incident itself is recorded). */
export const slackStepsFailed = (f: {
  id: string;
  failures: readonly { step: string; error: string }[];
}): string =>
  [
    `:warning: ${f.id} is recorded, but the bot could not do everything in Slack:`,
    ...f.failures.map(
      (x) => `• could not ${x.step} (\`${x.error}\`${RETRY_HINT[x.error] ? `: ${RETRY_HINT[x.error]}` : ''})`,
    ),
    'Do these by hand, or ask the bot operators to check its Slack permissions.',
  ].join('\n');

export const declaredReply = (f: { id: string; where: string }): string =>
  `:rotating_light: ${f.id} declared. Follow it in ${f.where}.`;

export const alreadyDeclared = (f: { id: string; where: string }): string =>
  `${f.id} was already declared from this request; it lives in ${f.where}.`;

/** To the declarer, when a setup cut short (the bot restarted) was finished by a later run. */
export const setupFinishedLater = (f: { id: string; where: string }): string =>
  `:rotating_light: ${f.id} is declared and set up (the bot restarted while setting it up). Follow it in ${f.where}.`;

export const archiveNotice = (f: { id: string; when: string }): string =>
  `This channel will be archived ${f.when} (${f.id} is resolved; reopening it cancels the archive).`;

export const severityReasonMissing =
  'Give a reason for the change, e.g. `/incident severity P0 checkout is completely down`.';

export const listEmpty = ':white_check_mark: No open incidents.';

export const declareNotAllowedHere = (channels: readonly string[]): string =>
  `Incidents are declared in ${channels.join(', ')}. Run \`/incident declare\` there.`;
