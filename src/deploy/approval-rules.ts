/**
 * Approval rules: `required` distinct approvers, one of them from EACH of `fromGroups` (a person in
 * two groups counts once: a group is covered by a person no other group is counted through), the
 * requester excluded unless `allowSelfApproval`. An emergency adds the emergency approver group
 * (and one more approver) to the rule.
 */
import { z } from 'zod';
import type { ApprovalRuleConfig, RunbookConfig } from '../config/schema.ts';
import type { JsonObject } from '../store/repositories/rows.ts';

export const approvalRuleJson = z.object({
  required: z.number().int().min(0),
  fromGroups: z.array(z.string()),
  allowSelfApproval: z.boolean(),
  /** The group an emergency added (shown as such). */
  emergencyGroup: z.string().optional(),
  /** The rule was the one of `approvals.<env>.duringIncident`. */
  duringIncident: z.boolean().optional(),
});
export type ApprovalRule = z.output<typeof approvalRuleJson>;

export function parseRule(json: JsonObject | null): ApprovalRule | null {
  const parsed = approvalRuleJson.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export const ruleJson = (rule: ApprovalRule): JsonObject => ({ ...rule });

/** The environment's rule; `duringIncident`: the override while a linked exempt incident is open. */
export function ruleFor(config: RunbookConfig, environment: string, duringIncident: boolean): ApprovalRule {
  const base: Pick<ApprovalRuleConfig, 'required' | 'fromGroups' | 'allowSelfApproval' | 'duringIncident'> =
    config.approvals[environment] ?? { required: 0, fromGroups: [], allowSelfApproval: false };
  const over = duringIncident ? base.duringIncident : undefined;
  return {
    required: over?.required ?? base.required,
    fromGroups: [...(over?.fromGroups ?? base.fromGroups)],
    allowSelfApproval: over?.allowSelfApproval ?? base.allowSelfApproval,
    ...(over ? { duringIncident: true } : {}),
  };
}

/** The rule with the emergency approver group added (once). */
export function withEmergency(rule: ApprovalRule, group: string): ApprovalRule {
  if (rule.emergencyGroup || rule.fromGroups.includes(group))
    return { ...rule, emergencyGroup: rule.emergencyGroup ?? group };
  return {
    ...rule,
    required: Math.max(rule.required, rule.fromGroups.length) + 1,
    fromGroups: [...rule.fromGroups, group],
    emergencyGroup: group,
  };
}

/** Who is in which approver group (config ids, Slack user groups): implemented in the Slack layer. */
export interface ApproverDirectory {
  /** The groups among `groups` the user belongs to. */
  groupsOf(userId: string, groups: readonly string[]): Promise<string[]>;
}

/** Without Slack: only the user ids written in `approvers.<group>`. */
export function configApprovers(config: RunbookConfig): ApproverDirectory {
  return {
    async groupsOf(userId, groups) {
      return groups.filter((g) => (config.approvers[g] ?? []).includes(userId));
    },
  };
}

/** "2 approvers, one from each of tech-lead, pm". */
export function ruleText(rule: ApprovalRule): string {
  const count = Math.max(rule.required, rule.fromGroups.length);
  const who = `${count} approver${count === 1 ? '' : 's'}`;
  return rule.fromGroups.length > 0 ? `${who}, one from each of ${rule.fromGroups.join(', ')}` : who;
}

export function needsApproval(rule: ApprovalRule): boolean {
  return rule.required > 0 || rule.fromGroups.length > 0;
}

export interface Approver {
  approver: string;
  /** The rule's groups this person belongs to. */
  groups: readonly string[];
}

export interface ApprovalProgress {
  /** Distinct approvers, in order. */
  approvers: string[];
  /** Groups no approver covers yet. */
  missingGroups: string[];
  /** Approvers still needed in all. */
  missing: number;
  satisfied: boolean;
}

/** The largest set of groups covered by distinct approvers (augmenting paths: a bipartite matching). */
function coveredGroups(groups: readonly string[], approvers: readonly Approver[]): Set<string> {
  const holder = new Map<string, number>();
  const tryGroup = (group: string, seen: Set<number>): boolean => {
    for (const [i, a] of approvers.entries()) {
      if (!a.groups.includes(group) || seen.has(i)) continue;
      seen.add(i);
      const heldBy = [...holder.entries()].find(([, idx]) => idx === i)?.[0];
      if (heldBy === undefined) {
        holder.set(group, i);
        return true;
      }
      // i covers another group: move that group to someone else, if anyone.
      holder.delete(heldBy);
      if (tryGroup(heldBy, seen)) {
        holder.set(group, i);
        return true;
      }
      holder.set(heldBy, i);
    }
    return false;
  };
  for (const group of groups) tryGroup(group, new Set());
  return new Set(holder.keys());
}

export function progress(rule: ApprovalRule, approvals: readonly Approver[]): ApprovalProgress {
  const distinct: Approver[] = [];
  for (const a of approvals) if (!distinct.some((d) => d.approver === a.approver)) distinct.push(a);
  const covered = coveredGroups(rule.fromGroups, distinct);
  const missingGroups = rule.fromGroups.filter((g) => !covered.has(g));
  const needed = Math.max(rule.required, rule.fromGroups.length);
  const missing = Math.max(needed - distinct.length, missingGroups.length);
  return {
    approvers: distinct.map((a) => a.approver),
    missingGroups,
    missing,
    satisfied: missing === 0 && missingGroups.length === 0,
  };
}

/** Stored in approvals.approver_group: the groups, comma-separated ('' when the rule names none). */
export const groupsText = (groups: readonly string[]): string => groups.join(',');
export const groupsOf = (text: string): string[] => text.split(',').filter((g) => g.length > 0);
