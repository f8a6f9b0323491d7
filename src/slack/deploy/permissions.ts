/**
 * Who may request (and confirm, cancel, click any button of) a /deploy operation: the ids in
 * `deploy.allowed.<environment>` (users, or members of the user groups), else anyone in the
 * workspace except guests (users.info is_restricted / is_ultra_restricted), cached.
 */
import type { WebClient } from '@slack/web-api';
import type { Services } from '../../services.ts';
import { UserInputError } from '../kit/errors.ts';
import { mention, usergroupMembers } from '../kit/usergroups.ts';

const GUEST_CACHE_MS = 10 * 60_000;
const guests = new Map<string, { guest: boolean; until: number }>();

async function isGuest(client: WebClient, userId: string): Promise<boolean> {
  const cached = guests.get(userId);
  if (cached && cached.until > Date.now()) return cached.guest;
  const info = await client.users.info({ user: userId });
  const guest = Boolean(info.user?.is_restricted || info.user?.is_ultra_restricted);
  guests.set(userId, { guest, until: Date.now() + GUEST_CACHE_MS });
  return guest;
}

/** Throws UserInputError naming who may, when this user may not operate on the environment. */
export async function assertMayOperate(
  services: Pick<Services, 'config'>,
  client: WebClient,
  userId: string,
  environment: string,
): Promise<void> {
  const allowed = services.config.deploy.allowed[environment];
  if (allowed) {
    if (allowed.includes(userId)) return;
    for (const group of allowed.filter((id) => id.startsWith('S'))) {
      if ((await usergroupMembers(client, group, { what: `deploy.allowed.${environment}` })).has(userId))
        return;
    }
    const who = allowed.map(mention).join(', ');
    throw new UserInputError(
      `Only ${who} may run deploy operations in ${environment} (deploy.allowed.${environment}). Nothing was changed.`,
    );
  }
  if (await isGuest(client, userId)) {
    throw new UserInputError(
      `Guests may not run deploy operations in ${environment}: full members of the workspace may (deploy.allowed.${environment} can name who instead). Nothing was changed.`,
    );
  }
}
