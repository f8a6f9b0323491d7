/**
 * Incidents, timeline events and operations with known times, inserted by SQL, and the figures they
 * must give (now = 2026-12-20 12:00 UTC, --since 30d: from 2026-11-20 12:00; the month: December).
 */
import type { Queryable } from '../../src/store/db.ts';

export const NOW = '2026-12-20T12:00:00Z';

export const FIXTURE_CONFIG = {
  services: [
    { name: 'barq-api', platform: { kind: 'kubernetes', namespace: 'prod', deployment: 'barq-api' } },
    {
      name: 'fleet-api',
      slo: 99.5,
      platform: { kind: 'kubernetes', namespace: 'prod', deployment: 'fleet-api' },
    },
    {
      name: 'fleet-api',
      environment: 'staging',
      platform: { kind: 'kubernetes', namespace: 'staging', deployment: 'fleet-api' },
    },
  ],
};

interface IncidentRow {
  number: number;
  severity: string;
  services: string[];
  started: string;
  acknowledged?: string;
  mitigated?: string;
  resolved?: string;
  nextUpdateDue?: string;
  escalationLevel?: number;
}

interface OperationRow {
  kind: string;
  service: string;
  environment?: string;
  state: string;
  started: string;
  finished?: string;
  incident?: number;
}

const d = (day: string, time: string) => `2026-${day}T${time}:00Z`;

export const INCIDENTS: IncidentRow[] = [
  // P0 barq-api: ack 5m; identified at 10:20 (before the linked rollback's 10:30): mitigate 20m; resolve 60m.
  {
    number: 1,
    severity: 'P0',
    services: ['barq-api'],
    started: d('12-10', '10:00'),
    acknowledged: d('12-10', '10:05'),
    resolved: d('12-10', '11:00'),
    escalationLevel: 1,
  },
  // P1 barq-api + fleet-api: ack 20m, mitigated 30m (recorded), resolve 120m.
  {
    number: 2,
    severity: 'P1',
    services: ['barq-api', 'fleet-api'],
    started: d('12-10', '10:30'),
    acknowledged: d('12-10', '10:50'),
    mitigated: d('12-10', '11:00'),
    resolved: d('12-10', '12:30'),
  },
  // P2 fleet-api, open, its next update overdue (one late update).
  {
    number: 3,
    severity: 'P2',
    services: ['fleet-api'],
    started: d('12-19', '12:00'),
    nextUpdateDue: d('12-19', '13:00'),
  },
  // Before the period and the month.
  {
    number: 4,
    severity: 'P0',
    services: ['barq-api'],
    started: d('11-01', '10:00'),
    resolved: d('11-01', '12:00'),
  },
  // P1 barq-api across the month's start: 60m to resolve; 30 minutes of December's budget.
  {
    number: 5,
    severity: 'P1',
    services: ['barq-api'],
    started: '2026-11-30T23:30:00Z',
    resolved: '2026-12-01T00:30:00Z',
  },
];

export const OPERATIONS: OperationRow[] = [
  // A: followed by incident 1 and rollback B: failed; restored by B at 10:30 (85m after 09:05).
  {
    kind: 'restart',
    service: 'barq-api',
    state: 'succeeded',
    started: d('12-10', '09:00'),
    finished: d('12-10', '09:05'),
  },
  // B: linked to incident 1; incident 2 (barq-api) starts 5 minutes later: failed; restored when 2 resolves (120m).
  {
    kind: 'rollback',
    service: 'barq-api',
    state: 'succeeded',
    started: d('12-10', '10:25'),
    finished: d('12-10', '10:30'),
    incident: 1,
  },
  // C: staging, nothing after: a good change.
  {
    kind: 'scale',
    service: 'fleet-api',
    environment: 'staging',
    state: 'succeeded',
    started: d('12-15', '10:00'),
    finished: d('12-15', '10:01'),
  },
  // D: failed itself; restored by rollback E at 11:10 (68m after 10:02).
  {
    kind: 'maintenance',
    service: 'fleet-api',
    state: 'failed',
    started: d('12-16', '10:00'),
    finished: d('12-16', '10:02'),
  },
  // E: nothing within 24 h after (incident 3 is three days later).
  {
    kind: 'rollback',
    service: 'fleet-api',
    state: 'succeeded',
    started: d('12-16', '11:00'),
    finished: d('12-16', '11:10'),
  },
  // Not executed, or before the period.
  { kind: 'restart', service: 'barq-api', state: 'cancelled', started: d('12-11', '10:00') },
  {
    kind: 'restart',
    service: 'barq-api',
    environment: 'staging',
    state: 'succeeded',
    started: d('11-01', '09:00'),
    finished: d('11-01', '09:01'),
  },
];

/** Incident 1's updates: 10:10 (due 10:15, on time, announces 10:25), 10:20 identified (on time, announces 10:35), 10:40 (late). */
const UPDATES = [
  { incident: 1, at: d('12-10', '10:10'), to: 'investigating', next: d('12-10', '10:25') },
  { incident: 1, at: d('12-10', '10:20'), to: 'identified', next: d('12-10', '10:35') },
  { incident: 1, at: d('12-10', '10:40'), to: 'monitoring', next: d('12-10', '10:55') },
];

export async function insertFixture(db: Queryable): Promise<void> {
  for (const i of INCIDENTS) {
    await db.query(
      `INSERT INTO incidents (number, title, severity, status, declared_by, affected_services, started_at,
         acknowledged_at, acknowledged_by, mitigated_at, resolved_at, next_update_due_at, escalation_level,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'U_ALICE', $5, $6, $7, $8, $9, $10, $11, $12, $6, $6)`,
      [
        i.number,
        `Incident ${i.number}`,
        i.severity,
        i.resolved ? 'resolved' : 'investigating',
        `{${i.services.join(',')}}`,
        i.started,
        i.acknowledged ?? null,
        i.acknowledged ? 'U_ALICE' : null,
        i.mitigated ?? null,
        i.resolved ?? null,
        i.nextUpdateDue ?? null,
        i.escalationLevel ?? 0,
      ],
    );
  }
  for (const u of UPDATES) {
    await db.query(
      `INSERT INTO timeline_events (incident_number, at, actor, kind, text, data, created_at)
       VALUES ($1, $2, 'U_ALICE', 'status_update', 'update', $3, $2)`,
      [u.incident, u.at, JSON.stringify({ to: u.to, nextUpdateDueAt: new Date(u.next).toISOString() })],
    );
  }
  for (const at of [d('12-10', '10:15'), d('12-10', '10:30')]) {
    await db.query(
      `INSERT INTO timeline_events (incident_number, at, actor, kind, text, created_at)
       VALUES (1, $1, 'bot', 'escalated', 'escalated', $1)`,
      [at],
    );
  }
  for (const [n, o] of OPERATIONS.entries()) {
    await db.query(
      `INSERT INTO operations (kind, service, environment, state, requested_by, idempotency_key, incident_number,
         started_at, finished_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'U_ALICE', $5, $6, $7, $8, $9, coalesce($8::timestamptz, $9::timestamptz))`,
      [
        o.kind,
        o.service,
        o.environment ?? 'production',
        o.state,
        `fixture-${n}`,
        o.incident ?? null,
        o.state === 'cancelled' ? null : o.started,
        o.finished ?? null,
        o.started,
      ],
    );
  }
}
