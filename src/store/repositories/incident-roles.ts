/** Incident roles (commander, comms, scribe, …): one holder per role per incident. */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { IncidentRole } from '../../incidents/incident.ts';
import type { AssignRoleInput, AssignRoleResult, RoleRecords } from '../../incidents/ports.ts';
import type { Queryable } from '../db.ts';
import { inTransaction } from '../transaction.ts';
import { date, integer, parseRow } from './rows.ts';

const roleRow = z
  .object({
    incident_number: integer,
    role: z.string(),
    user_id: z.string(),
    assigned_by: z.string(),
    assigned_at: date,
  })
  .transform(
    (r): IncidentRole => ({
      incidentNumber: r.incident_number,
      role: r.role,
      userId: r.user_id,
      assignedBy: r.assigned_by,
      assignedAt: r.assigned_at,
    }),
  );

function toRole(row: unknown): IncidentRole {
  return parseRow(roleRow, row, 'incident_roles');
}

export class IncidentRoleRepository implements RoleRecords {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** Gives the role to userId, replacing any holder. Re-assigning the holder changes nothing. */
  async assign(input: AssignRoleInput): Promise<AssignRoleResult> {
    return inTransaction(this.#q, async (tx) => {
      const { rows: current } = await tx.query(
        'SELECT * FROM incident_roles WHERE incident_number = $1 AND role = $2 FOR UPDATE',
        [input.incidentNumber, input.role],
      );
      const previous = current[0] ? toRole(current[0]) : null;
      if (previous?.userId === input.userId) return { assignment: previous, previousUserId: previous.userId };
      const { rows } = await tx.query(
        `INSERT INTO incident_roles (incident_number, role, user_id, assigned_by, assigned_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (incident_number, role)
         DO UPDATE SET user_id = EXCLUDED.user_id, assigned_by = EXCLUDED.assigned_by, assigned_at = EXCLUDED.assigned_at
         RETURNING *`,
        [input.incidentNumber, input.role, input.userId, input.assignedBy, this.#clock.now()],
      );
      return { assignment: toRole(rows[0]), previousUserId: previous?.userId ?? null };
    });
  }

  /** Leaves the role open; returns the removed assignment, or null when it was open already. */
  async unassign(incidentNumber: number, role: string): Promise<IncidentRole | null> {
    const { rows } = await this.#q.query(
      'DELETE FROM incident_roles WHERE incident_number = $1 AND role = $2 RETURNING *',
      [incidentNumber, role],
    );
    return rows[0] ? toRole(rows[0]) : null;
  }

  async get(incidentNumber: number, role: string): Promise<IncidentRole | null> {
    const { rows } = await this.#q.query(
      'SELECT * FROM incident_roles WHERE incident_number = $1 AND role = $2',
      [incidentNumber, role],
    );
    return rows[0] ? toRole(rows[0]) : null;
  }

  /** The incident's roles, in the order they were assigned. */
  async list(incidentNumber: number): Promise<IncidentRole[]> {
    const { rows } = await this.#q.query(
      'SELECT * FROM incident_roles WHERE incident_number = $1 ORDER BY assigned_at, role',
      [incidentNumber],
    );
    return rows.map(toRole);
  }
}
