/** The incident domain's records: an incident (INC-n), its roles, where it lives in Slack. */
import type { IncidentStatus } from './status.ts';

/** A Slack message: channel id and ts. */
export interface SlackMessageRef {
  channelId: string;
  ts: string;
}

export interface Incident {
  /** The 42 in INC-42. */
  number: number;
  title: string;
  /** Severity name from the config, e.g. P1. */
  severity: string;
  status: IncidentStatus;
  declaredBy: string;
  /** Slack user id of the incident commander. */
  commander: string | null;
  affectedServices: string[];
  impact: string | null;
  /** What is known so far. */
  summary: string | null;
  /** Dedicated channel; null for a lightweight incident living in the announcement's thread. */
  channelId: string | null;
  /** The #incidents message whose thread carries updates. */
  announcement: SlackMessageRef | null;
  /** The pinned state message. */
  headline: SlackMessageRef | null;
  startedAt: Date;
  lastUpdateAt: Date | null;
  nextUpdateDueAt: Date | null;
  resolvedAt: Date | null;
  resolution: string | null;
  rootCause: string | null;
  dedupeKey: string | null;
  /** When someone took the incident (the Acknowledge button), and who: the ladder stops there. */
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  /** The escalation ladder's last level reached (1-based; 0: none yet). */
  escalationLevel: number;
  /** First mitigation (a successful /deploy operation for it, or status identified/monitoring). */
  mitigatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface IncidentRole {
  incidentNumber: number;
  role: string;
  /** Slack user id of the holder. */
  userId: string;
  assignedBy: string;
  assignedAt: Date;
}

/** 42 → 'INC-42'. */
export function incidentId(number: number): string {
  return `INC-${number}`;
}

/** 'INC-42', 'inc-42' or '42' → 42; anything else → null. */
export function parseIncidentId(text: string): number | null {
  const match = /^(?:inc-)?(\d{1,9})$/i.exec(text.trim());
  const number = match?.[1] ? Number(match[1]) : 0;
  return number > 0 ? number : null;
}
