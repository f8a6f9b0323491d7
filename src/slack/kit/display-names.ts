/**
 * People by name instead of id (the timeline, the post-mortem): users.info, each call within a
 * deadline, cached briefly in-process per Slack client; a user Slack does not tell about in time
 * shows as their id.
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import { type NameOf, SLACK_USER_ID } from '../../incidents/people.ts';

export type { NameOf };

/** How long a name is kept. */
export const DISPLAY_NAME_TTL_MS = 10 * 60_000;
/** A lookup that failed is not tried again for this long (a deleted user, Slack down). */
export const DISPLAY_NAME_FAILURE_TTL_MS = 60_000;
export const DISPLAY_NAME_DEADLINE_MS = 2_000;
const MAX_ENTRIES = 5_000;
/** At most this many lookups per call (the rest show as ids). */
const MAX_LOOKUPS = 50;

const userInfo = z.object({
  user: z.object({
    name: z.string().optional(),
    real_name: z.string().optional(),
    profile: z
      .object({ display_name: z.string().optional(), real_name: z.string().optional() })
      .loose()
      .optional(),
  }),
});

interface Entry {
  name: string | null;
  until: number;
}

const caches = new WeakMap<WebClient, Map<string, Entry>>();

function cacheOf(client: WebClient): Map<string, Entry> {
  let cache = caches.get(client);
  if (!cache) {
    cache = new Map();
    caches.set(client, cache);
  }
  return cache;
}

async function lookUp(client: WebClient, userId: string): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), DISPLAY_NAME_DEADLINE_MS);
  });
  const call = client.users
    .info({ user: userId })
    .then((answer) => {
      const parsed = userInfo.safeParse(answer);
      if (!parsed.success) return null;
      const { user } = parsed.data;
      const name = [user.profile?.display_name, user.profile?.real_name, user.real_name, user.name].find(
        (n) => typeof n === 'string' && n.trim() !== '',
      );
      return name?.trim() ?? null;
    })
    .catch(() => null);
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Looks up the names (display name, else real name, else handle) of `ids` (cached ones first), all at once; never throws. */
export async function displayNames(client: WebClient, clock: Clock, ids: Iterable<string>): Promise<NameOf> {
  const cache = cacheOf(client);
  const now = clock.now().getTime();
  const wanted = [...new Set(ids)].filter((id) => SLACK_USER_ID.test(id));
  const missing = wanted.filter((id) => (cache.get(id)?.until ?? 0) <= now).slice(0, MAX_LOOKUPS);
  const found = await Promise.all(missing.map(async (id) => [id, await lookUp(client, id)] as const));
  if (cache.size + found.length > MAX_ENTRIES) cache.clear();
  for (const [id, name] of found) {
    cache.set(id, { name, until: now + (name ? DISPLAY_NAME_TTL_MS : DISPLAY_NAME_FAILURE_TTL_MS) });
  }
  return (id) => cache.get(id)?.name ?? id;
}
