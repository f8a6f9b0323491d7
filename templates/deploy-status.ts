/**
 * Texts of `/deploy status` answers. Values passed in are already escaped for mrkdwn.
 */

export const platformNames = {
  cloudrun: 'Cloud Run',
  appservice: 'Azure App Service',
  kubernetes: 'Kubernetes',
} as const;

export const statusHeadline = (f: {
  ready: boolean;
  service: string;
  environment: string;
  platform: string;
  target: string;
  reason: string | undefined;
}): string =>
  f.ready
    ? `:large_green_circle: *${f.service}* (${f.environment}) is *ready* on ${f.platform} — ${f.target}`
    : `:red_circle: *${f.service}* (${f.environment}) is *not ready* on ${f.platform} — ${f.target}${f.reason ? `\n${f.reason}` : ''}`;

export const statusDetails = (f: {
  revision: string;
  image: string;
  traffic: string | undefined;
  replicas: string;
  maintenance: boolean;
}): string =>
  [
    `revision \`${f.revision}\``,
    `image \`${f.image}\``,
    ...(f.traffic ? [`traffic ${f.traffic}`] : []),
    `replicas ${f.replicas}`,
    `maintenance ${f.maintenance ? '*on*' : 'off'}`,
  ].join(' · ');

export const statusFailed = (message: string): string =>
  `:warning: ${message}\n_\`/deploy status\` only reads: nothing was changed._`;

export const statusTimedOut = (f: { service: string; platform: string; seconds: number }): string =>
  statusFailed(`${f.platform} did not answer within ${f.seconds} s about ${f.service}: try again shortly`);
