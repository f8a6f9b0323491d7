/**
 * The escalation ladder of a severity, from config: `escalation.ladders.<severity>` as written (each
 * level's delay counted from the declaration, or from the reopen), else `escalation.levels` as the
 * ladder of every severity (the first level at once, each next one a response time later: "not
 * acknowledged within the severity's response time → the next level").
 */
import type { RunbookConfig } from '../config/schema.ts';

export interface LadderLevel {
  /** 1-based: level 1 is the first. */
  level: number;
  name: string;
  /** From the declaration (or the reopen) until this level is reached, unless acknowledged first. */
  delayMs: number;
  /** Slack user ids (U…/W…) and user-group ids (S…). */
  notify: string[];
  /** The PagerDuty routing key as written (`${env:NAME}`); null: this level does not page. */
  routingKeyRef: string | null;
  /** What else reaching it does: a line posted in the incident and in `postIn`. */
  action: { text: string; postIn: string[] } | null;
}

export function ladderFor(config: RunbookConfig, severity: string): LadderLevel[] {
  const own = config.escalation.ladders[severity];
  if (own) {
    return own.map((l, i) => ({
      level: i + 1,
      name: l.name,
      delayMs: l.delay,
      notify: [...l.notify],
      // A level pages with its own key; `pagerduty: {}`-less levels do not page.
      routingKeyRef: l.pagerduty ? (l.pagerduty.routingKey ?? config.pagerduty.routingKey ?? null) : null,
      action: l.action ? { text: l.action.text, postIn: [...l.action.postIn] } : null,
    }));
  }
  const responseTime = config.severities.find((s) => s.name === severity)?.responseTime ?? 0;
  return config.escalation.levels.map((l, i) => ({
    level: i + 1,
    name: l.name,
    delayMs: i * responseTime,
    notify: [...l.notify],
    routingKeyRef: null,
    action: null,
  }));
}

/** The longest ladder of any severity (timer ids to cancel when the ladder stops). */
export function longestLadder(config: RunbookConfig): number {
  return Math.max(
    config.escalation.levels.length,
    ...Object.values(config.escalation.ladders).map((l) => l.length),
    0,
  );
}
