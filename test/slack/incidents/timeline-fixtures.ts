import type { Incident } from '../../../src/incidents/incident.ts';
import type { TimelineEvent, TimelineKind } from '../../../src/incidents/timeline.ts';

export function incident(patch: Partial<Incident> = {}): Incident {
  const at = new Date('2026-01-05T08:00:00Z');
  return {
    number: 42,
    title: 'Checkout down',
    severity: 'P1',
    status: 'investigating',
    declaredBy: 'U_ALICE',
    commander: 'U_ALICE',
    affectedServices: ['checkout'],
    impact: null,
    summary: null,
    channelId: 'C_INC42',
    announcement: null,
    headline: null,
    startedAt: at,
    lastUpdateAt: null,
    nextUpdateDueAt: null,
    resolvedAt: null,
    resolution: null,
    rootCause: null,
    dedupeKey: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalationLevel: 0,
    mitigatedAt: null,
    createdAt: at,
    updatedAt: at,
    ...patch,
  };
}

export function event(
  id: number,
  patch: Partial<TimelineEvent> & { kind?: TimelineKind } = {},
): TimelineEvent {
  const at = new Date(Date.UTC(2026, 0, 5, 8, 0, id));
  return {
    id,
    incidentNumber: 42,
    at,
    actor: 'U_ALICE',
    kind: 'note',
    text: `event ${id}`,
    data: {},
    sourceKey: null,
    createdAt: at,
    ...patch,
  };
}
