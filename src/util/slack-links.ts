/** Links to Slack, without the workspace's domain (slack.com redirects them to the workspace). */

/** A channel, or a message in it (its permalink) when `ts` is given. */
export function slackArchiveLink(channelId: string, ts?: string): string {
  return ts === undefined
    ? `https://slack.com/archives/${channelId}`
    : `https://slack.com/archives/${channelId}/p${ts.replace('.', '')}`;
}
