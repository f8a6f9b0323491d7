/**
 * Versioned SQL migrations (src/store/migrations/NNN_name.sql), applied in order at start-up, each in
 * its own transaction under an advisory lock, so that replicas starting together migrate exactly once.
 * Never edit an applied migration: add the next one (the checksum check refuses edited files).
 * A migration file must not contain BEGIN/COMMIT; the runner wraps it in a transaction.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Clock, systemClock } from '../clock.ts';
import type { Db, Queryable } from './db.ts';
import { MigrationError } from './errors.ts';

export interface Migration {
  version: number;
  /** File name without the extension, e.g. 001_init. */
  name: string;
  sql: string;
  /** sha256 of the file, hex. */
  checksum: string;
}

export interface MigrateOptions {
  /** Defaults to the files in src/store/migrations. */
  migrations?: readonly Migration[];
  clock?: Clock;
}

export interface MigrateResult {
  /** Migrations this call applied (empty when another replica or an earlier start did). */
  applied: Migration[];
  /** Highest version now recorded. */
  version: number;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Each statement of a migration may take this long (long DDL, waiting for another replica's migration
 * lock), instead of the store's few seconds for the bot's own queries.
 */
export const MIGRATION_STATEMENT_TIMEOUT_MS = 5 * 60_000;
const long = { statementTimeoutMs: MIGRATION_STATEMENT_TIMEOUT_MS };

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Builds a Migration from its file name and text (tests use it for ad-hoc migrations). */
export function migration(fileName: string, sql: string): Migration {
  const match = FILE_NAME.exec(fileName);
  if (!match?.[1]) {
    throw new MigrationError(`migration file "${fileName}" must be named NNN_lower_snake_name.sql`);
  }
  return { version: Number(match[1]), name: fileName.replace(/\.sql$/, ''), sql, checksum: checksumOf(sql) };
}

/** Reads and orders the migration files; refuses misnamed files and duplicate versions. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => !file.startsWith('.'));
  const migrations = await Promise.all(
    files.map(async (file) => migration(file, await readFile(`${dir.replace(/\/$/, '')}/${file}`, 'utf8'))),
  );
  return checkOrder(migrations);
}

function checkOrder(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    if (previous && current && previous.version === current.version) {
      throw new MigrationError(
        `migrations ${previous.name} and ${current.name} share version ${current.version}`,
      );
    }
  }
  return sorted;
}

const appliedRowSchema = z.object({ version: z.number().int(), name: z.string(), checksum: z.string() });
type AppliedRow = z.infer<typeof appliedRowSchema>;

/**
 * Serializes migrators of the same schema (other schemas in the same database migrate in parallel).
 * A transaction-level lock: released by COMMIT/ROLLBACK, so a crashed replica never leaves it held.
 */
async function lock(tx: Queryable): Promise<void> {
  const { rows } = await tx.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new MigrationError(
      'no current schema: the search_path names no existing schema, so there is nowhere to migrate',
    );
  }
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('runbook-bot.migrate'), hashtext($1::text))", [
    schema,
  ]);
}

async function appliedRows(tx: Queryable): Promise<AppliedRow[]> {
  const { rows } = await tx.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  return rows.map((row) => appliedRowSchema.parse(row));
}

function verifyChecksum(known: Migration, row: AppliedRow): void {
  if (known.checksum !== row.checksum) {
    throw new MigrationError(
      `migration ${known.name} was edited after it was applied (checksum differs): restore the file and put the change in a new migration`,
    );
  }
}

/** Applies the pending migrations in order. Safe to call from several replicas at once. */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = checkOrder(options.migrations ?? (await loadMigrations()));
  const clock = options.clock ?? systemClock;

  const pending = await db.transaction(async (tx) => {
    await lock(tx);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL
      )`,
    );
    const applied = new Map((await appliedRows(tx)).map((row) => [row.version, row]));
    const latest = Math.max(0, ...applied.keys());
    const todo: Migration[] = [];
    for (const m of migrations) {
      const row = applied.get(m.version);
      if (row) {
        verifyChecksum(m, row);
      } else if (m.version < latest) {
        throw new MigrationError(
          `migration ${m.name} is older than the applied version ${latest}: renumber it after ${latest}`,
        );
      } else {
        todo.push(m);
      }
    }
    return todo;
  }, long);

  const appliedNow: Migration[] = [];
  for (const m of pending) {
    const didApply = await db.transaction(async (tx) => {
      await lock(tx);
      const { rows } = await tx.query(
        'SELECT version, name, checksum FROM schema_migrations WHERE version = $1',
        [m.version],
      );
      const existing = rows[0];
      if (existing) {
        // Another replica applied it while we waited for the lock.
        verifyChecksum(m, appliedRowSchema.parse(existing));
        return false;
      }
      try {
        await tx.query(m.sql);
      } catch (error) {
        throw new MigrationError(
          `migration ${m.name} failed and was rolled back: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      await tx.query(
        'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)',
        [m.version, m.name, m.checksum, clock.now()],
      );
      return true;
    }, long);
    if (didApply) appliedNow.push(m);
  }

  const { rows } = await db.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  );
  return { applied: appliedNow, version: rows[0]?.version ?? 0 };
}
