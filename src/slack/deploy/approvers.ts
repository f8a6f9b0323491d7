/**
 * Approver groups in Slack: `approvers.<group>` lists user ids (`U…`, `W…`) and user groups (`S…`,
 * read with usergroups.users.list and cached briefly). Also what a card shows besides its operation.
 */
import type { WebClient } from '@slack/web-api';
import type { ApproverDirectory } from '../../deploy/approval-rules.ts';
import type { Services } from '../../services.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import { UserInputError } from '../kit/errors.ts';
import type { CardContext } from './blocks/card.ts';

/** How long reading a user group's members may take. */
const USERGROUP_DEADLINE_MS = 2_000;

/** How long a user group's members are trusted. */
export const USERGROUP_CACHE_MS = 30_000;

const cache = new WeakMap<Services, Map<string, { users: Set<string>; until: number }>>();

async function usergroupMembers(services: Services, client: WebClient, group: string): Promise<Set<string>> {
  let byGroup = cache.get(services);
  if (!byGroup) {
    byGroup = new Map();
    cache.set(services, byGroup);
  }
  const cached = byGroup.get(group);
  if (cached && cached.until > Date.now()) return cached.users;
  // A deadline: a click must be answered within Slack's 3 s, with what is unavailable.
  let timer: NodeJS.Timeout | undefined;
  const answer = await Promise.race([
    client.usergroups.users.list({ usergroup: group }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UserInputError(
              `Slack did not say in time who is in the user group ${group} (an approver group); nothing was changed.`,
              'Try again in a minute.',
            ),
          ),
        USERGROUP_DEADLINE_MS,
      );
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
  const users = new Set(answer.users ?? []);
  byGroup.set(group, { users, until: Date.now() + USERGROUP_CACHE_MS });
  return users;
}

export class SlackApproverDirectory implements ApproverDirectory {
  readonly #services: Services;
  readonly #client: WebClient;

  constructor(services: Services, client: WebClient) {
    this.#services = services;
    this.#client = client;
  }

  async groupsOf(userId: string, groups: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const group of groups) {
      const ids = this.#services.config.approvers[group] ?? [];
      if (ids.includes(userId)) {
        found.push(group);
        continue;
      }
      for (const id of ids.filter((i) => i.startsWith('S'))) {
        if ((await usergroupMembers(this.#services, this.#client, id)).has(userId)) {
          found.push(group);
          break;
        }
      }
    }
    return found;
  }
}

/** The card's context: the operation's approvals, the environment's freeze, the approver groups. */
export async function cardContext(services: Services, op: Operation): Promise<CardContext> {
  const [approvals, freeze] = await Promise.all([
    op.approvalRule ? services.repos.approvals.listFor(op.id) : Promise.resolve([]),
    services.repos.freezes.findActive(op.environment, services.clock.now()),
  ]);
  return { approvals, freeze, approvers: services.config.approvers };
}
