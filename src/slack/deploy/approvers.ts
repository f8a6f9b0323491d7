/**
 * Approver groups in Slack: `approvers.<group>` lists user ids (`U…`, `W…`) and user groups (`S…`,
 * read with usergroups.users.list and cached briefly). Also what a card shows besides its operation.
 */
import type { WebClient } from '@slack/web-api';
import type { ApproverDirectory } from '../../deploy/approval-rules.ts';
import type { Services } from '../../services.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import { usergroupMembers } from '../kit/usergroups.ts';
import type { CardContext } from './blocks/card.ts';

/** How long a user group's members are trusted. */
export const USERGROUP_CACHE_MS = 30_000;

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
        const members = await usergroupMembers(this.#client, id, {
          cacheMs: USERGROUP_CACHE_MS,
          what: 'an approver group',
        });
        if (members.has(userId)) {
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
