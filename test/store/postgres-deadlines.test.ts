/**
 * Every Postgres call has a deadline: against a database behind a blackholing proxy, statements fail
 * within about two seconds as unavailable, what failed never applies later, and the pool recovers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isStoreUnavailable, StoreError } from '../../src/store/errors.ts';
import { openPostgres, type PostgresDb } from '../../src/store/postgres.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { uniqueSchema } from './databases.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('postgres deadlines', () => {
  const schema = uniqueSchema('deadlines');
  let proxy: TcpProxy;
  /** Straight to the server, for checking what happened. */
  let direct: PostgresDb;
  /** Through the proxy. */
  let db: PostgresDb;
  beforeAll(async () => {
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    direct = await openPostgres(TEST_DATABASE_URL, { schema });
    await direct.query('CREATE TABLE notes (text text NOT NULL)');
    db = await openPostgres(proxy.via(TEST_DATABASE_URL), { schema, max: 3 });
  });
  afterEach(async () => {
    await proxy.restore();
    await direct.query('DELETE FROM notes');
  });
  afterAll(async () => {
    await db?.close();
    await proxy?.close();
    await direct?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await direct?.close();
  });

  const notes = async () =>
    (await direct.query<{ text: string }>('SELECT text FROM notes ORDER BY text')).rows.map((r) => r.text);

  it('sets the server-side timeouts on every connection', async () => {
    const { rows } = await db.query<{ statement: string; idle: string }>(
      "SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle",
    );
    expect(rows[0]).toEqual({ statement: '1500ms', idle: '10s' });
    // A statement running too long is cancelled by the server: unavailable, and the pool goes on.
    const slow = await failure(db.query('SELECT pg_sleep(5)'));
    expect(isStoreUnavailable(slow.error)).toBe(true);
    expect((slow.error as StoreError).code).toBe('57014');
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('lets a transaction that asks for it (migrations) run long statements', async () => {
    const value = await db.transaction(
      async (tx) => (await tx.query<{ ok: boolean }>('SELECT true AS ok FROM pg_sleep(2.2)')).rows[0]?.ok,
      { statementTimeoutMs: 10_000 },
    );
    expect(value).toBe(true);
  });

  it('fails a write without an answer within the deadline, in doubt, and it never lands later', async () => {
    await db.ping();
    proxy.blackhole();
    const { error, ms } = await failure(db.query("INSERT INTO notes VALUES ('lost in the network')"));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ unavailable: true, inDoubt: true });
    expect(ms).toBeLessThan(3_500);
    const read = await failure(db.query('SELECT count(*) FROM notes'));
    expect(read.error).toMatchObject({ unavailable: true, inDoubt: false });

    await proxy.restore();
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // The statement was held in the network when its connection was reset: it must never arrive.
    await sleep(300);
    expect(await notes()).toEqual([]);
  });

  it('rolls back a transaction cut off half way, and the next one works', async () => {
    const cutOff = db.transaction(async (tx) => {
      await tx.query("INSERT INTO notes VALUES ('half a transaction')");
      proxy.blackhole();
      await tx.query("INSERT INTO notes VALUES ('the other half')");
    });
    const { error, ms } = await failure(cutOff);
    expect(error).toMatchObject({ unavailable: true, inDoubt: false });
    expect(ms).toBeLessThan(3_500);

    await proxy.restore();
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO notes VALUES ('after')");
    });
    await sleep(300);
    expect(await notes()).toEqual(['after']);
  });

  it('fails at once when the server refuses connections, and reconnects when it is back', async () => {
    await proxy.refuse();
    const { error, ms } = await failure(db.query('SELECT 1'));
    expect(isStoreUnavailable(error)).toBe(true);
    expect(ms).toBeLessThan(3_500);
    await proxy.restore();
    await expect(db.ping()).resolves.toBeGreaterThanOrEqual(0);
  });
});
