/**
 * The audit log's read side: pages of records for `/deploy audit`, the CSV export for
 * change-management reviews, and the retention prune (records older than `audit.retention` go; the
 * append-only triggers let nothing else be deleted). No Slack here.
 */
import { stringify } from 'csv-stringify/sync';
import { subMilliseconds } from 'date-fns/subMilliseconds';
import type { Clock } from '../clock.ts';
import { incidentId } from '../incidents/incident.ts';
import type { Logger } from '../logger.ts';
import type { Db } from '../store/db.ts';
import { type AuditFilter, type AuditRecord, AuditRepository } from '../store/repositories/audit.ts';

/** Records on one page of `/deploy audit`. */
export const AUDIT_PAGE_SIZE = 20;
/** Most records one export holds (the newest ones; a narrower --since gets the rest). */
export const MAX_EXPORT_RECORDS = 50_000;
/** Records read per query while exporting. */
const EXPORT_BATCH = 1_000;
/** Records deleted per statement while pruning (each batch its own short transaction). */
export const PRUNE_BATCH = 10_000;
/**
 * Records are deleted only once older than the retention plus this: a retention in years
 * (365.25 days each) never ends before the calendar date, leap days or not.
 */
export const RETENTION_GRACE_MS = 86_400_000;

export interface AuditQuery {
  /** One service's records. */
  service?: string;
  /** Records at or after this time. */
  since: Date;
}

export interface AuditPage {
  records: AuditRecord[];
  /** 1-based; clamped to the last page. */
  page: number;
  pages: number;
  /** Records matching the query. */
  total: number;
  pageSize: number;
}

export interface AuditExport {
  /** RFC 4180 CSV (CRLF, a header row), oldest record first. */
  csv: string;
  /** Records in the file. */
  records: number;
  /** Records matching the query (more than `records` when the export was capped). */
  total: number;
  truncated: boolean;
  /** The oldest and newest record in the file. */
  first: Date | undefined;
  last: Date | undefined;
}

export type PruneOutcome =
  | { kind: 'pruned'; cutoff: Date; deleted: number }
  /** Another replica holds the prune lock: it is pruning now. */
  | { kind: 'busy'; cutoff: Date; deleted: number };

export interface AuditLogDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
}

/** The columns of the export, in order. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'action',
  'service',
  'environment',
  'outcome',
  'incident',
  'operation_id',
  'details',
] as const;

function csvRow(record: AuditRecord): Record<(typeof AUDIT_CSV_COLUMNS)[number], string | number> {
  return {
    id: record.id,
    at: record.at.toISOString(),
    actor: record.actor,
    action: record.action,
    service: record.service ?? '',
    environment: record.environment ?? '',
    outcome: record.outcome,
    incident: record.incidentNumber === null ? '' : incidentId(record.incidentNumber),
    operation_id: record.operationId ?? '',
    details: Object.keys(record.details).length === 0 ? '' : JSON.stringify(record.details),
  };
}

/**
 * The records as CSV: RFC 4180 (CRLF line ends, fields with commas, quotes or line breaks quoted,
 * quotes doubled), and a cell that a spreadsheet would run as a formula (starting with `=`, `+`,
 * `-`, `@`, a tab or a carriage return) prefixed with `'`.
 */
export function auditCsv(records: readonly AuditRecord[]): string {
  return stringify(records.map(csvRow), {
    header: true,
    columns: [...AUDIT_CSV_COLUMNS],
    record_delimiter: 'windows',
    // Quote fields with a bare \n or \r too (csv-stringify stops doing so once record_delimiter is set).
    quote_record_delimiter: true,
    escape_formulas: true,
  });
}

export class AuditLog {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #repo: AuditRepository;

  constructor(deps: AuditLogDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#repo = new AuditRepository(deps.db, deps.clock);
  }

  /** One page of records, newest first (page 1 is the newest); a page past the end is the last. */
  async page(query: AuditQuery, page: number, pageSize = AUDIT_PAGE_SIZE): Promise<AuditPage> {
    if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be at least 1, got ${page}`);
    const filter = toFilter(query);
    const total = await this.#repo.count(filter);
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const shown = Math.min(page, pages);
    const records =
      total === 0
        ? []
        : await this.#repo.list({ ...filter, limit: pageSize, offset: (shown - 1) * pageSize });
    return { records, page: shown, pages, total, pageSize };
  }

  /** The matching records as CSV, oldest first; at most `max`, the newest ones. */
  async export(query: AuditQuery, max = MAX_EXPORT_RECORDS): Promise<AuditExport> {
    const filter = toFilter(query);
    const total = await this.#repo.count(filter);
    const newestFirst: AuditRecord[] = [];
    while (newestFirst.length < Math.min(total, max)) {
      const last = newestFirst.at(-1);
      const batch = await this.#repo.list({
        ...filter,
        limit: Math.min(EXPORT_BATCH, max - newestFirst.length),
        ...(last ? { before: { at: last.at, id: last.id } } : {}),
      });
      newestFirst.push(...batch);
      if (batch.length === 0) break;
    }
    const records = newestFirst.reverse();
    return {
      csv: auditCsv(records),
      records: records.length,
      total: Math.max(total, records.length),
      truncated: records.length < total,
      first: records[0]?.at,
      last: records.at(-1)?.at,
    };
  }

  /**
   * Deletes the records older than the retention (plus RETENTION_GRACE_MS), in batches of short
   * transactions. One replica at a time: each batch takes a Postgres advisory lock, and a replica
   * that finds it taken leaves the pruning to the one holding it.
   */
  async prune(retentionMs: number): Promise<PruneOutcome> {
    const cutoff = subMilliseconds(this.#clock.now(), retentionMs + RETENTION_GRACE_MS);
    let deleted = 0;
    for (;;) {
      const batch = await this.#db.transaction(async (tx) => {
        const { rows } = await tx.query<{ locked: boolean }>(
          "SELECT pg_try_advisory_xact_lock(hashtext('runbook-bot.audit-retention'), hashtext(current_schema())) AS locked",
        );
        if (rows[0]?.locked !== true) return undefined;
        return new AuditRepository(tx, this.#clock).prune(cutoff, PRUNE_BATCH);
      });
      if (batch === undefined) {
        this.#logger.info({ cutoff, deleted }, 'audit retention: another replica is pruning');
        return { kind: 'busy', cutoff, deleted };
      }
      deleted += batch;
      if (batch < PRUNE_BATCH) break;
    }
    if (deleted > 0) {
      this.#logger.info(
        { cutoff, deleted, retentionMs },
        `audit retention: deleted ${deleted} audit record${deleted === 1 ? '' : 's'} older than ${cutoff.toISOString()}`,
      );
    } else {
      this.#logger.debug({ cutoff, retentionMs }, 'audit retention: no audit records past their retention');
    }
    return { kind: 'pruned', cutoff, deleted };
  }
}

function toFilter(query: AuditQuery): AuditFilter {
  return { since: query.since, ...(query.service !== undefined ? { service: query.service } : {}) };
}
