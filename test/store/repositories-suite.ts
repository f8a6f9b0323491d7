/**
 * The one store suite: migrations, transactions and every repository, run against each backend
 * (real Postgres in a throw-away schema, PGlite in memory) by postgres.test.ts and pglite.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { addMinutes } from 'date-fns/addMinutes';
import { addSeconds } from 'date-fns/addSeconds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { Db } from '../../src/store/db.ts';
import { IdempotencyConflictError, MigrationError, StoreError } from '../../src/store/errors.ts';
import { loadMigrations, type Migration, migrate, migration } from '../../src/store/migrate.ts';
import { type Repositories, repositories } from '../../src/store/repositories/index.ts';
import type { TestDatabase } from './databases.ts';

const START = new Date('2026-03-02T09:00:00Z');

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function tableExists(db: Db, table: string): Promise<boolean> {
  const { rows } = await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table]);
  return rows[0]?.found !== null && rows[0]?.found !== undefined;
}

export function describeRepositories(name: string, openDbForTest: () => Promise<TestDatabase>): void {
  describe(`store on ${name}`, () => {
    const clock = new ManualClock(START);
    let t: TestDatabase;
    let repos: Repositories;
    let shipped: Migration[];

    beforeAll(async () => {
      shipped = await loadMigrations();
      t = await openDbForTest();
      await migrate(t.db, { clock });
      repos = repositories(t.db, clock);
    });

    afterAll(async () => {
      await t?.dispose();
    });

    describe('migrations', () => {
      it('apply once even when two replicas migrate at the same moment, and again is a no-op', async () => {
        const fresh = await openDbForTest();
        try {
          const probe = migration(
            '900_probe.sql',
            'CREATE TABLE probe (id integer PRIMARY KEY);\nINSERT INTO probe (id) VALUES (1);',
          );
          const all = [...shipped, probe];
          const [a, b] = await Promise.all([
            migrate(fresh.db, { migrations: all, clock }),
            migrate(fresh.peer, { migrations: all, clock }),
          ]);
          const appliedNames = [...a.applied, ...b.applied].map((m) => m.name).sort();
          expect(appliedNames).toEqual(all.map((m) => m.name).sort());
          expect(a.version).toBe(900);
          expect(b.version).toBe(900);

          const { rows } = await fresh.db.query<{ version: number; name: string; applied_at: Date }>(
            'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
          );
          expect(rows.map((r) => [r.version, r.name])).toEqual(all.map((m) => [m.version, m.name]));
          expect(rows[0]?.applied_at).toEqual(START);
          const { rows: probes } = await fresh.db.query<{ n: number }>('SELECT count(*) AS n FROM probe');
          expect(probes[0]?.n).toBe(1);

          const again = await migrate(fresh.db, { migrations: all, clock });
          expect(again.applied).toEqual([]);
          expect(again.version).toBe(900);
        } finally {
          await fresh.dispose();
        }
      });

      it('roll a failing migration back whole, and refuse edited or out-of-order migrations', async () => {
        const fresh = await openDbForTest();
        try {
          await migrate(fresh.db, { migrations: shipped, clock });
          const broken = migration(
            '901_broken.sql',
            'CREATE TABLE half_done (id integer);\nSELECT * FROM no_such_table;',
          );
          const failure = await migrate(fresh.db, { migrations: [...shipped, broken], clock }).catch(
            (e) => e,
          );
          expect(failure).toBeInstanceOf(MigrationError);
          expect(failure.message).toContain('901_broken');
          expect(failure.message).toContain('no_such_table');
          expect(await tableExists(fresh.db, 'half_done')).toBe(false);
          const { rows } = await fresh.db.query('SELECT 1 FROM schema_migrations WHERE version = 901');
          expect(rows).toEqual([]);

          const first = shipped[0];
          if (!first) throw new Error('no shipped migration');
          const edited = migration(`${first.name}.sql`, `${first.sql}\n-- edited`);
          await expect(migrate(fresh.db, { migrations: [edited], clock })).rejects.toThrow(
            /edited after it was applied/,
          );

          await migrate(fresh.db, {
            migrations: [...shipped, migration('950_later.sql', 'SELECT 1;')],
            clock,
          });
          await expect(
            migrate(fresh.db, {
              migrations: [
                ...shipped,
                migration('940_late.sql', 'SELECT 1;'),
                migration('950_later.sql', 'SELECT 1;'),
              ],
              clock,
            }),
          ).rejects.toThrow(/older than the applied version 950/);
        } finally {
          await fresh.dispose();
        }
      });
    });

    describe('values and transactions', () => {
      it('returns the same JS values on every backend', async () => {
        const { rows } = await t.db.query(
          `SELECT 42::int8 AS big, 7::int4 AS small, count(*) AS counted, 1.50::numeric AS exact,
                  '2026-03-02 10:15:30.123+00'::timestamptz AS stamp, '2026-03-02 10:15:30'::timestamp AS local_stamp,
                  '2026-03-02'::date AS day, interval '90 minutes' AS span,
                  '{"a":[1,{"b":null}]}'::jsonb AS doc, ARRAY['x','y']::text[] AS names,
                  ARRAY[1,2]::int8[] AS bigs, true AS flag, NULL::text AS nothing
           FROM (VALUES (1), (2)) AS v(n)`,
        );
        expect(rows).toEqual([
          {
            big: 42,
            small: 7,
            counted: 2,
            exact: '1.50',
            stamp: new Date('2026-03-02T10:15:30.123Z'),
            local_stamp: new Date('2026-03-02T10:15:30Z'),
            day: '2026-03-02',
            span: '01:30:00',
            doc: { a: [1, { b: null }] },
            names: ['x', 'y'],
            bigs: [1, 2],
            flag: true,
            nothing: null,
          },
        ]);
        const params = await t.db.query<{ at: Date; doc: unknown; list: string[] }>(
          'SELECT $1::timestamptz AS at, $2::jsonb AS doc, $3::text[] AS list',
          [new Date('2026-03-02T10:00:00Z'), JSON.stringify([1, 'two']), ['a', 'b,c']],
        );
        expect(params.rows[0]).toEqual({
          at: new Date('2026-03-02T10:00:00Z'),
          doc: [1, 'two'],
          list: ['a', 'b,c'],
        });
      });

      it('refuses an int8 that a JS number cannot hold, and keeps working', async () => {
        await expect(t.db.query('SELECT 9007199254740993::int8 AS too_big')).rejects.toThrow(
          /select it ::text/,
        );
        const { rows } = await t.db.query('SELECT 9007199254740993::int8::text AS exact');
        expect(rows[0]).toEqual({ exact: '9007199254740993' });
      });

      it('commits, rolls back on a throw (passing the error through), and wraps database errors', async () => {
        const table = `tx_probe_${randomUUID().slice(0, 8)}`;
        await t.db.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
        const committed = await t.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]);
          return 'done';
        });
        expect(committed).toBe('done');

        const boom = new Error('responder cancelled');
        await expect(
          t.db.transaction(async (tx) => {
            await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, [2]);
            throw boom;
          }),
        ).rejects.toBe(boom);

        const duplicate = await t.db.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]).catch((e) => e);
        expect(duplicate).toBeInstanceOf(StoreError);
        expect(duplicate.code).toBe('23505');

        // A failed statement whose error was caught still dooms the transaction.
        await expect(
          t.db.transaction(async (tx) => {
            await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, [3]);
            await tx.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]).catch(() => undefined);
          }),
        ).rejects.toThrow(/rolled back at COMMIT/);

        let leaked: Db | undefined;
        await t.db.transaction(async (tx) => {
          leaked = tx as Db;
        });
        await expect(leaked?.query('SELECT 1')).rejects.toThrow(/finished transaction/);

        const { rows } = await t.db.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`);
        expect(rows.map((r) => r.id)).toEqual([1]);
        expect(await t.db.ping()).toBeGreaterThanOrEqual(0);
      });
    });

    describe('incidents', () => {
      it('declares with defaults and reads back the same record', async () => {
        clock.set(START);
        const { incident, created } = await repos.incidents.declare({
          title: 'Checkout is failing',
          severity: 'P1',
          declaredBy: 'U_ALICE',
          affectedServices: ['checkout', 'payments'],
          impact: 'Customers cannot pay',
          nextUpdateDueAt: addMinutes(START, 30),
        });
        expect(created).toBe(true);
        expect(incident).toMatchObject({
          title: 'Checkout is failing',
          severity: 'P1',
          status: 'investigating',
          declaredBy: 'U_ALICE',
          commander: 'U_ALICE',
          affectedServices: ['checkout', 'payments'],
          impact: 'Customers cannot pay',
          summary: null,
          channelId: null,
          announcement: null,
          headline: null,
          startedAt: START,
          lastUpdateAt: null,
          nextUpdateDueAt: addMinutes(START, 30),
          resolvedAt: null,
          dedupeKey: null,
          createdAt: START,
          updatedAt: START,
        });
        expect(await repos.incidents.get(incident.number)).toEqual(incident);
        expect(await repos.incidents.get(999_999)).toBeNull();
      });

      it('hands out gap-free numbers to 20 concurrent declares and after a rolled-back one', async () => {
        const before = await repos.incidents.declare({ title: 'baseline', severity: 'P3', declaredBy: 'U1' });
        const declared = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            repos.incidents.declare({ title: `storm ${i}`, severity: 'P3', declaredBy: 'U1' }),
          ),
        );
        const numbers = declared.map((d) => d.incident.number).sort((a, b) => a - b);
        expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => before.incident.number + 1 + i));

        const last = numbers.at(-1) ?? 0;
        let doomed = 0;
        await expect(
          t.db.transaction(async (tx) => {
            const { incident } = await repositories(tx, clock).incidents.declare({
              title: 'never happened',
              severity: 'P2',
              declaredBy: 'U1',
            });
            doomed = incident.number;
            throw new Error('abort the declare');
          }),
        ).rejects.toThrow('abort the declare');
        expect(doomed).toBe(last + 1);
        expect(await repos.incidents.get(doomed)).toBeNull();

        const next = await repos.incidents.declare({
          title: 'after rollback',
          severity: 'P2',
          declaredBy: 'U1',
        });
        expect(next.incident.number).toBe(last + 1);
      });

      it('is idempotent on the dedupe key, also under concurrency, without consuming numbers', async () => {
        const key = unique('slack-trigger');
        const results = await Promise.all(
          Array.from({ length: 5 }, () =>
            repos.incidents.declare({ title: 'Dup', severity: 'P2', declaredBy: 'U1', dedupeKey: key }),
          ),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const number = results[0]?.incident.number;
        expect(results.every((r) => r.incident.number === number && r.incident.dedupeKey === key)).toBe(true);
        const again = await repos.incidents.declare({
          title: 'Dup',
          severity: 'P2',
          declaredBy: 'U1',
          dedupeKey: key,
        });
        expect(again).toEqual({ incident: results[0]?.incident, created: false });
        const next = await repos.incidents.declare({ title: 'other', severity: 'P2', declaredBy: 'U1' });
        expect(next.incident.number).toBe((number ?? 0) + 1);
      });

      it('updates only the given fields, resolves, reopens and lists the open ones', async () => {
        clock.set(START);
        const { incident } = await repos.incidents.declare({
          title: 'Slow search',
          severity: 'P3',
          declaredBy: 'U_BOB',
          impact: 'search is slow',
        });
        clock.advance(60_000);
        const updated = await repos.incidents.update(incident.number, {
          status: 'identified',
          summary: 'an index is missing',
          impact: null,
          affectedServices: ['search'],
          lastUpdateAt: clock.now(),
        });
        expect(updated).toEqual({
          ...incident,
          status: 'identified',
          summary: 'an index is missing',
          impact: null,
          affectedServices: ['search'],
          lastUpdateAt: addSeconds(START, 60),
          updatedAt: addSeconds(START, 60),
        });
        expect((await repos.incidents.listOpen()).map((i) => i.number)).toContain(incident.number);

        const notResolvedAt = await repos.incidents
          .update(incident.number, { status: 'resolved' })
          .catch((e) => e);
        expect(notResolvedAt).toBeInstanceOf(StoreError);
        expect(notResolvedAt.code).toBe('23514');
        expect(notResolvedAt.constraint).toBe('incidents_resolved_at_matches_status');

        const resolved = await repos.incidents.update(incident.number, {
          status: 'resolved',
          resolvedAt: clock.now(),
          resolution: 'index added',
          rootCause: 'migration skipped',
        });
        expect(resolved).toMatchObject({
          status: 'resolved',
          resolvedAt: clock.now(),
          resolution: 'index added',
        });
        const open = await repos.incidents.listOpen();
        expect(open.map((i) => i.number)).not.toContain(incident.number);
        expect(open.every((i) => i.status !== 'resolved')).toBe(true);
        expect(open.map((i) => i.number)).toEqual([...open.map((i) => i.number)].sort((a, b) => a - b));

        const reopened = await repos.incidents.update(incident.number, {
          status: 'investigating',
          resolvedAt: null,
        });
        expect(reopened).toMatchObject({
          status: 'investigating',
          resolvedAt: null,
          resolution: 'index added',
        });
        expect(await repos.incidents.update(999_998, { title: 'ghost' })).toBeNull();
      });

      it('records Slack refs and finds incidents by channel and by announcement', async () => {
        const channel = unique('C');
        const { incident } = await repos.incidents.declare({
          title: 'DB failover',
          severity: 'P1',
          declaredBy: 'U1',
        });
        const announcement = { channelId: 'C_INCIDENTS', ts: `${Date.now()}.${randomUUID().slice(0, 6)}` };
        const withRefs = await repos.incidents.setSlackRefs(incident.number, {
          channelId: channel,
          announcement,
          headline: { channelId: channel, ts: '1700000000.000200' },
        });
        expect(withRefs).toMatchObject({
          channelId: channel,
          announcement,
          headline: { channelId: channel, ts: '1700000000.000200' },
        });
        expect((await repos.incidents.findByChannel(channel))?.number).toBe(incident.number);
        expect((await repos.incidents.findByAnnouncement(announcement))?.number).toBe(incident.number);
        expect(await repos.incidents.findByChannel(unique('C'))).toBeNull();

        const other = await repos.incidents.declare({ title: 'other', severity: 'P2', declaredBy: 'U1' });
        const clash = await repos.incidents
          .setSlackRefs(other.incident.number, { channelId: channel })
          .catch((e) => e);
        expect(clash).toBeInstanceOf(StoreError);
        expect(clash.code).toBe('23505');

        const cleared = await repos.incidents.setSlackRefs(incident.number, { headline: null });
        expect(cleared).toMatchObject({ channelId: channel, announcement, headline: null });
      });
    });

    describe('incident roles', () => {
      it('assigns, replaces, lists and unassigns', async () => {
        clock.set(START);
        const { incident } = await repos.incidents.declare({
          title: 'roles',
          severity: 'P2',
          declaredBy: 'U1',
        });
        const n = incident.number;
        const first = await repos.roles.assign({
          incidentNumber: n,
          role: 'comms',
          userId: 'U_A',
          assignedBy: 'U1',
        });
        expect(first).toEqual({
          assignment: {
            incidentNumber: n,
            role: 'comms',
            userId: 'U_A',
            assignedBy: 'U1',
            assignedAt: START,
          },
          previousUserId: null,
        });
        clock.advance(1_000);
        await repos.roles.assign({ incidentNumber: n, role: 'scribe', userId: 'U_C', assignedBy: 'U1' });
        clock.advance(1_000);
        const replaced = await repos.roles.assign({
          incidentNumber: n,
          role: 'comms',
          userId: 'U_B',
          assignedBy: 'U2',
        });
        expect(replaced.previousUserId).toBe('U_A');
        expect(replaced.assignment).toMatchObject({
          userId: 'U_B',
          assignedBy: 'U2',
          assignedAt: addSeconds(START, 2),
        });
        const same = await repos.roles.assign({
          incidentNumber: n,
          role: 'comms',
          userId: 'U_B',
          assignedBy: 'U3',
        });
        expect(same).toEqual({ assignment: replaced.assignment, previousUserId: 'U_B' });

        expect((await repos.roles.list(n)).map((r) => [r.role, r.userId])).toEqual([
          ['scribe', 'U_C'],
          ['comms', 'U_B'],
        ]);
        expect((await repos.roles.unassign(n, 'scribe'))?.userId).toBe('U_C');
        expect(await repos.roles.unassign(n, 'scribe')).toBeNull();
        expect(await repos.roles.get(n, 'scribe')).toBeNull();
        expect((await repos.roles.list(n)).map((r) => r.role)).toEqual(['comms']);

        const orphan = await repos.roles
          .assign({ incidentNumber: 999_997, role: 'comms', userId: 'U_A', assignedBy: 'U1' })
          .catch((e) => e);
        expect(orphan).toBeInstanceOf(StoreError);
        expect(orphan.code).toBe('23503');
      });
    });

    describe('timeline', () => {
      it('orders by time then insertion, pages, and counts', async () => {
        const { incident } = await repos.incidents.declare({
          title: 'timeline',
          severity: 'P2',
          declaredBy: 'U1',
        });
        const n = incident.number;
        const add = (minute: number, text: string) =>
          repos.timeline.add({
            incidentNumber: n,
            actor: 'bot',
            kind: 'note',
            text,
            at: addMinutes(START, minute),
            data: { minute, tags: ['a', { nested: true }] },
          });
        await add(5, 'third');
        await add(1, 'first');
        await add(5, 'fourth');
        await add(3, 'second');
        await add(9, 'fifth');

        const all = await repos.timeline.list(n);
        expect(all.map((e) => e.text)).toEqual(['first', 'second', 'third', 'fourth', 'fifth']);
        expect(all[0]).toMatchObject({
          incidentNumber: n,
          actor: 'bot',
          kind: 'note',
          at: addMinutes(START, 1),
          data: { minute: 1, tags: ['a', { nested: true }] },
          sourceKey: null,
        });
        expect((await repos.timeline.list(n, { limit: 2, offset: 2 })).map((e) => e.text)).toEqual([
          'third',
          'fourth',
        ]);
        expect((await repos.timeline.list(n, { limit: 2, offset: 4 })).map((e) => e.text)).toEqual(['fifth']);
        expect(await repos.timeline.count(n)).toBe(5);
        expect(await repos.timeline.count(999_996)).toBe(0);
        await expect(repos.timeline.list(n, { limit: 0 })).rejects.toThrow(RangeError);
      });

      it('adds a pinned message once and removes it by its source key', async () => {
        const { incident } = await repos.incidents.declare({
          title: 'pins',
          severity: 'P2',
          declaredBy: 'U1',
        });
        const sourceKey = unique('pin:C1');
        const input = {
          incidentNumber: incident.number,
          actor: 'U_PINNER',
          kind: 'pinned_message' as const,
          text: 'the graph that shows it',
          sourceKey,
        };
        const results = await Promise.all([repos.timeline.add(input), repos.timeline.add(input)]);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(results[0]?.event.id).toBe(results[1]?.event.id);
        const again = await repos.timeline.add({ ...input, text: 'changed' });
        expect(again).toEqual({ event: results[0]?.event, created: false });
        expect(await repos.timeline.count(incident.number)).toBe(1);

        const removed = await repos.timeline.removeBySourceKey(sourceKey);
        expect(removed?.id).toBe(results[0]?.event.id);
        expect(await repos.timeline.removeBySourceKey(sourceKey)).toBeNull();
        expect(await repos.timeline.count(incident.number)).toBe(0);

        const repinned = await repos.timeline.add(input);
        expect(repinned.created).toBe(true);
        expect(await repos.timeline.findBySourceKey(sourceKey)).toEqual(repinned.event);
      });
    });

    describe('audit', () => {
      it('appends, lists newest first per service, and refuses changes', async () => {
        const service = unique('svc');
        clock.set(START);
        const first = await repos.audit.append({
          actor: 'U1',
          action: 'deploy.restart',
          service,
          environment: 'production',
          outcome: 'requested',
          details: { replicas: 3, reason: 'stuck' },
        });
        expect(first).toMatchObject({
          at: START,
          actor: 'U1',
          action: 'deploy.restart',
          service,
          environment: 'production',
          outcome: 'requested',
          details: { replicas: 3, reason: 'stuck' },
          incidentNumber: null,
          operationId: null,
        });
        clock.advance(1_000);
        await repos.audit.append({ actor: 'bot', action: 'deploy.restart', service, outcome: 'succeeded' });
        clock.advance(1_000);
        await repos.audit.append({ actor: 'U2', action: 'deploy.scale', service, outcome: 'denied' });
        await repos.audit.append({
          actor: 'U9',
          action: 'deploy.scale',
          service: unique('svc'),
          outcome: 'failed',
        });

        const listed = await repos.audit.list({ service });
        expect(listed.map((r) => r.outcome)).toEqual(['denied', 'succeeded', 'requested']);
        expect((await repos.audit.list({ service, limit: 1 })).map((r) => r.actor)).toEqual(['U2']);
        expect((await repos.audit.list({ limit: 2 })).length).toBe(2);

        const update = await t.db
          .query("UPDATE audit_records SET outcome = 'failed' WHERE id = $1", [first.id])
          .catch((e) => e);
        expect(update).toBeInstanceOf(StoreError);
        expect(update.message).toContain('append-only');
        await expect(t.db.query('DELETE FROM audit_records WHERE id = $1', [first.id])).rejects.toThrow(
          /append-only/,
        );
      });

      it('filters by time, pages by offset or keyset, and counts', async () => {
        const service = unique('svc');
        const at = (minutes: number) => addMinutes(START, minutes);
        for (const minute of [0, 10, 20, 30]) {
          await repos.audit.append({
            actor: `U${minute}`,
            action: 'deploy.restart',
            service,
            outcome: 'succeeded',
            at: at(minute),
          });
        }
        const actors = (records: { actor: string }[]) => records.map((r) => r.actor);
        expect(actors(await repos.audit.list({ service, since: at(10) }))).toEqual(['U30', 'U20', 'U10']);
        expect(await repos.audit.count({ service, since: at(10) })).toBe(3);
        expect(await repos.audit.count({ service })).toBe(4);
        expect(actors(await repos.audit.list({ service, limit: 2, offset: 1 }))).toEqual(['U20', 'U10']);
        const [newest] = await repos.audit.list({ service, limit: 1 });
        expect(
          actors(await repos.audit.list({ service, before: { at: newest!.at, id: newest!.id }, limit: 2 })),
        ).toEqual(['U20', 'U10']);
      });

      it('prunes only records past the cutoff; every other DELETE, UPDATE and TRUNCATE stays refused', async () => {
        const service = unique('svc');
        const old = await repos.audit.append({
          actor: 'U_OLD',
          action: 'deploy.rollback',
          service,
          outcome: 'succeeded',
          at: new Date('2012-01-01T00:00:00Z'),
        });
        await repos.audit.append({
          actor: 'U_OLD2',
          action: 'deploy.rollback',
          service,
          outcome: 'failed',
          at: new Date('2012-06-01T00:00:00Z'),
        });
        const recent = await repos.audit.append({
          actor: 'U_NEW',
          action: 'deploy.rollback',
          service,
          outcome: 'succeeded',
          at: new Date('2019-06-01T00:00:00Z'),
        });
        // A plain DELETE of a record past any retention is refused too: only the prune deletes.
        await expect(t.db.query('DELETE FROM audit_records WHERE id = $1', [old.id])).rejects.toThrow(
          /append-only/,
        );
        await expect(t.db.query('TRUNCATE audit_records')).rejects.toThrow(/append-only/);

        const cutoff = new Date('2015-01-01T00:00:00Z');
        expect(await repos.audit.prune(cutoff, 1)).toBe(1);
        expect(await repos.audit.prune(cutoff)).toBe(1);
        expect(await repos.audit.prune(cutoff)).toBe(0);
        expect((await repos.audit.list({ service })).map((r) => r.actor)).toEqual(['U_NEW']);

        // Within the prune's own transaction, nothing else can be deleted or changed afterwards.
        const after = await t.db
          .transaction(async (tx) => {
            await repositories(tx, clock).audit.prune(cutoff);
            await tx.query('DELETE FROM audit_records WHERE id = $1', [recent.id]);
          })
          .catch((e) => e);
        expect(after).toBeInstanceOf(Error);
        expect(String(after.message)).toMatch(/append-only/);
        await expect(
          t.db.query("UPDATE audit_records SET outcome = 'failed' WHERE id = $1", [recent.id]),
        ).rejects.toThrow(/append-only/);
        // A cutoff set by hand does not let a record within it go.
        const inside = await t.db
          .transaction(async (tx) => {
            await tx.query(
              "SELECT set_config('runbook.audit_retention_cutoff', '2015-01-01T00:00:00Z', true)",
            );
            await tx.query('DELETE FROM audit_records WHERE id = $1', [recent.id]);
          })
          .catch((e) => e);
        expect(String(inside.message)).toMatch(/within its retention/);
        expect((await repos.audit.list({ service })).map((r) => r.actor)).toEqual(['U_NEW']);
      });
    });

    describe('operations', () => {
      it('creates idempotently and refuses a key reused for another request', async () => {
        clock.set(START);
        const service = unique('svc');
        const key = unique('op');
        const input = {
          kind: 'rollback' as const,
          service,
          environment: 'production',
          requestedBy: 'U1',
          idempotencyKey: key,
          params: { toRevision: 'rev-41', steps: [1, 2] },
        };
        const { operation, created } = await repos.operations.create(input);
        expect(created).toBe(true);
        expect(operation.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(operation).toMatchObject({
          kind: 'rollback',
          service,
          environment: 'production',
          state: 'requested',
          requestedBy: 'U1',
          params: { toRevision: 'rev-41', steps: [1, 2] },
          result: null,
          error: null,
          incidentNumber: null,
          idempotencyKey: key,
          createdAt: START,
          updatedAt: START,
        });
        expect(await repos.operations.create(input)).toEqual({ operation, created: false });
        await expect(repos.operations.create({ ...input, kind: 'restart' })).rejects.toBeInstanceOf(
          IdempotencyConflictError,
        );
        expect(await repos.operations.get(operation.id)).toEqual(operation);
        expect(await repos.operations.get('not-a-uuid')).toBeNull();
        expect(await repos.operations.get(randomUUID())).toBeNull();
      });

      it('transitions by compare-and-set: of two concurrent moves from one state, exactly one wins', async () => {
        clock.set(START);
        const service = unique('svc');
        const { operation } = await repos.operations.create({
          kind: 'restart',
          service,
          environment: 'staging',
          requestedBy: 'U1',
          idempotencyKey: unique('op'),
          state: 'awaiting_approval',
        });
        const peerOps = repositories(t.peer, clock).operations;
        const [approve, reject] = await Promise.all([
          repos.operations.transition(operation.id, ['awaiting_approval'], 'approved'),
          peerOps.transition(operation.id, ['awaiting_approval'], 'rejected', { error: 'rejected by U9' }),
        ]);
        expect([approve, reject].filter((r) => r !== null)).toHaveLength(1);
        const winner = approve ?? reject;
        expect((await repos.operations.get(operation.id))?.state).toBe(winner?.state);

        const fresh = await repos.operations.create({
          kind: 'scale',
          service,
          environment: 'production',
          requestedBy: 'U1',
          idempotencyKey: unique('op'),
        });
        const id = fresh.operation.id;
        expect(await repos.operations.transition(id, ['running'], 'verifying')).toBeNull();
        clock.advance(5_000);
        const running = await repos.operations.transition(id, ['requested', 'approved'], 'running', {
          params: { replicas: 4 },
        });
        expect(running).toMatchObject({
          state: 'running',
          params: { replicas: 4 },
          updatedAt: addSeconds(START, 5),
        });
        const done = await repos.operations.transition(id, ['running', 'verifying'], 'succeeded', {
          result: { revision: 'rev-42', healthy: true },
        });
        expect(done).toMatchObject({
          state: 'succeeded',
          result: { revision: 'rev-42', healthy: true },
          error: null,
        });
        expect(await repos.operations.transition(randomUUID(), ['requested'], 'running')).toBeNull();
      });

      it('lists the active operations of a service', async () => {
        const service = unique('svc');
        const make = (environment: string) =>
          repos.operations.create({
            kind: 'maintenance',
            service,
            environment,
            requestedBy: 'U1',
            idempotencyKey: unique('op'),
          });
        const a = await make('production');
        const b = await make('staging');
        const c = await make('canary');
        await repos.operations.transition(c.operation.id, ['requested'], 'cancelled');
        await make('canary').then((other) =>
          repos.operations.transition(other.operation.id, ['requested'], 'running'),
        );
        // One active operation per service and environment, whatever Redis says.
        await expect(make('production')).rejects.toMatchObject({
          code: '23505',
          constraint: 'operations_one_active_idx',
        });
        await repos.operations.create({
          kind: 'traffic',
          service: unique('svc'),
          environment: 'production',
          requestedBy: 'U1',
          idempotencyKey: unique('op'),
        });

        const active = await repos.operations.listActive({ service });
        expect(active).toHaveLength(3);
        expect(active.map((o) => o.id)).toContain(a.operation.id);
        expect(active.map((o) => o.id)).toContain(b.operation.id);
        expect(active.map((o) => o.id)).not.toContain(c.operation.id);
        expect(await repos.operations.listActive({ service, environment: 'staging' })).toEqual([b.operation]);
        const recent = await repos.operations.listRecent({ service, limit: 10 });
        expect(recent).toHaveLength(4);
      });
    });

    describe('approvals', () => {
      it('records one decision per approver, the first one standing', async () => {
        clock.set(START);
        const { operation } = await repos.operations.create({
          kind: 'rollback',
          service: unique('svc'),
          environment: 'production',
          requestedBy: 'U1',
          idempotencyKey: unique('op'),
          state: 'awaiting_approval',
        });
        const vote = (approver: string, decision: 'approved' | 'rejected') =>
          repos.approvals.record({ operationId: operation.id, approver, group: 'sre', decision });

        const racing = await Promise.all([vote('U_SRE1', 'approved'), vote('U_SRE1', 'approved')]);
        expect(racing.filter((r) => r.created)).toHaveLength(1);
        clock.advance(1_000);
        const changedMind = await vote('U_SRE1', 'rejected');
        expect(changedMind).toEqual({
          approval: {
            operationId: operation.id,
            approver: 'U_SRE1',
            group: 'sre',
            decision: 'approved',
            reason: null,
            at: START,
          },
          created: false,
        });
        const second = await repos.approvals.record({
          operationId: operation.id,
          approver: 'U_SRE2',
          group: 'sre',
          decision: 'rejected',
          reason: 'not during the sale',
        });
        expect(second.created).toBe(true);
        expect(second.approval.reason).toBe('not during the sale');

        const listed = await repos.approvals.listFor(operation.id);
        expect(listed.map((a) => [a.approver, a.decision])).toEqual([
          ['U_SRE1', 'approved'],
          ['U_SRE2', 'rejected'],
        ]);
        expect(await repos.approvals.listFor(randomUUID())).toEqual([]);
      });
    });

    describe('deploy freezes', () => {
      it('one unlifted freeze per environment; one whose time passed is no longer in force', async () => {
        clock.set(START);
        const env = unique('env');
        expect(await repos.freezes.findActive(env)).toBeNull();
        const until = new Date(START.getTime() + 3_600_000);
        const frozen = await repos.freezes.create({
          environment: env,
          reason: 'release week',
          frozenBy: 'U1',
          until,
        });
        expect(await repos.freezes.findActive(env)).toEqual(frozen);
        await expect(
          repos.freezes.create({ environment: env, reason: 'again', frozenBy: 'U2', until: null }),
        ).rejects.toThrow();
        expect(await repos.freezes.findActive(env, new Date(until.getTime() + 1))).toBeNull();
        const lifted = await repos.freezes.lift(env, 'U2');
        expect(lifted).toMatchObject({ id: frozen.id, liftedBy: 'U2', liftedAt: START });
        expect(await repos.freezes.lift(env, 'U2')).toBeNull();
        const next = await repos.freezes.create({
          environment: env,
          reason: 'again',
          frozenBy: 'U2',
          until: null,
        });
        expect(await repos.freezes.findActive(env, new Date('2030-01-01T00:00:00Z'))).toEqual(next);
      });
    });

    describe('processed requests', () => {
      it('claims a key once across concurrent claims and replicas, until it expires or is released', async () => {
        clock.set(START);
        const key = unique('view');
        const peer = repositories(t.peer, clock).processed;
        const racing = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? peer : repos.processed).claim(key, 'view_submission', 10_000),
          ),
        );
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await repos.processed.isClaimed(key)).toBe(true);

        clock.advance(9_999);
        expect(await repos.processed.claim(key, 'view_submission', 10_000)).toBe(false);
        clock.advance(1);
        expect(await repos.processed.isClaimed(key)).toBe(false);
        expect(await repos.processed.claim(key, 'view_submission', 10_000)).toBe(true);
        expect(await repos.processed.claim(key, 'view_submission', 10_000)).toBe(false);

        expect(await repos.processed.release(key)).toBe(true);
        expect(await repos.processed.release(key)).toBe(false);
        expect(await repos.processed.claim(key, 'view_submission', 10_000)).toBe(true);
        await expect(repos.processed.claim('', 'button', 1_000)).rejects.toThrow(RangeError);
        await expect(repos.processed.claim('x'.repeat(501), 'button', 1_000)).rejects.toThrow(RangeError);
        await expect(repos.processed.claim(key, 'button', 0)).rejects.toThrow(RangeError);
      });

      it('prunes expired keys only', async () => {
        clock.set(START);
        const stale = unique('stale');
        const live = unique('live');
        await repos.processed.claim(stale, 'signature', 1_000);
        await repos.processed.claim(live, 'signature', 60_000);
        clock.advance(5_000);
        expect(await repos.processed.prune()).toBeGreaterThanOrEqual(1);
        const { rows } = await t.db.query<{ key: string }>(
          'SELECT key FROM processed_requests WHERE key = ANY($1::text[])',
          [[stale, live]],
        );
        expect(rows.map((r) => r.key)).toEqual([live]);
      });
    });
  });
}
