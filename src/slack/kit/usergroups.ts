/**
 * Members of a Slack user group (`S…`), read with usergroups.users.list within a deadline (a click
 * must be answered within Slack's 3 s), optionally cached briefly per client.
 */
import type { WebClient } from '@slack/web-api';
import { UserInputError } from './errors.ts';

/** A user (`<@U…>`) or a user group (`<!subteam^S…>`) mentioned in a message. */
export const mention = (id: string): string => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`);

/** How long reading a user group's members may take. */
export const USERGROUP_DEADLINE_MS = 2_000;

const cache = new WeakMap<WebClient, Map<string, { users: Set<string>; until: number }>>();

export async function usergroupMembers(
  client: WebClient,
  group: string,
  options: { cacheMs?: number; what?: string } = {},
): Promise<Set<string>> {
  const cacheMs = options.cacheMs ?? 0;
  let byGroup = cache.get(client);
  if (!byGroup) {
    byGroup = new Map();
    cache.set(client, byGroup);
  }
  const cached = cacheMs > 0 ? byGroup.get(group) : undefined;
  if (cached && cached.until > Date.now()) return cached.users;
  let timer: NodeJS.Timeout | undefined;
  const answer = await Promise.race([
    client.usergroups.users.list({ usergroup: group }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UserInputError(
              `Slack did not say in time who is in the user group ${group}${options.what ? ` (${options.what})` : ''}; nothing was changed.`,
              'Try again in a minute.',
            ),
          ),
        USERGROUP_DEADLINE_MS,
      );
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
  const users = new Set(answer.users ?? []);
  if (cacheMs > 0) byGroup.set(group, { users, until: Date.now() + cacheMs });
  return users;
}
