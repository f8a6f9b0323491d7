/** The real services every test run uses (CI fails, never skips, when they are missing). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Test set-up and clean-up on Postgres (CREATE/DROP DATABASE, DROP SCHEMA … CASCADE) may wait on a
 * checkpoint or on locks while other test files run: no 1.5 s statement deadline for them.
 */
export const ADMIN_DB_OPTIONS = { statementTimeoutMs: 30_000, answerTimeoutMs: 30_000 } as const;
