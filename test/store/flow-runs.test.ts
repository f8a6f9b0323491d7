/** Recorded flow runs on both backends: claims are leases, writes are fenced by the claim. */
import { addSeconds } from 'date-fns/addSeconds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { FLOW_MAX_ATTEMPTS, FlowClaimLostError, Flows } from '../../src/flows/recorded-flow.ts';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/store/migrate.ts';
import { repositories } from '../../src/store/repositories/index.ts';
import { openPgliteForTest, openPostgresForTest, type TestDatabase } from './databases.ts';

const backends: [string, () => Promise<TestDatabase>][] = [
  ['postgres', openPostgresForTest],
  ['pglite', openPgliteForTest],
];

describe.each(backends)('flow runs on %s', (_name, open) => {
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const logger = createLogger({ level: 'silent' });
  let t: TestDatabase;
  let flows: Flows;
  let other: Flows;
  beforeAll(async () => {
    t = await open();
    await migrate(t.db, { clock });
    flows = new Flows({ db: t.db, clock, logger });
    other = new Flows({ db: t.peer, clock, logger });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('records steps under a claim; a worker whose lease was taken over can record nothing more', async () => {
    const claim = flows.newClaim();
    const run = await repositories(t.db, clock).flowRuns.create({
      flow: 'test.lease',
      subject: '1',
      input: { createChannel: true },
      claim,
    });
    const mine = flows.claimed(run, claim.owner);
    expect(await other.claim('test.lease', '1')).toBeNull();
    await mine.record('channel', { result: { channelId: 'C1' } });
    expect(mine.step('channel')?.result).toEqual({ channelId: 'C1' });

    clock.advance(31_000);
    const theirs = await other.claim('test.lease', '1');
    expect(theirs?.attempts).toBe(2);
    expect(theirs?.step('channel')?.result).toEqual({ channelId: 'C1' });
    await expect(mine.record('invite', { result: {} })).rejects.toBeInstanceOf(FlowClaimLostError);
    await expect(mine.finish()).rejects.toBeInstanceOf(FlowClaimLostError);
    await theirs?.record('invite', { failed: 'missing_scope' });
    await theirs?.finish();
    const finished = await flows.get('test.lease', '1');
    expect(finished?.outcome).toBe('completed');
    expect(finished?.steps.invite?.failed).toBe('missing_scope');
    expect(await flows.claim('test.lease', '1')).toBeNull();
  });

  it('hands each pending run to one of two workers sweeping at once, and gives up after a few attempts', async () => {
    const repos = repositories(t.db, clock);
    for (const subject of ['a', 'b', 'c', 'd']) await repos.flowRuns.create({ flow: 'test.sweep', subject });
    const [mine, theirs] = await Promise.all([
      flows.claimPending('test.sweep', 3),
      other.claimPending('test.sweep', 3),
    ]);
    const subjects = [...mine, ...theirs].map((r) => r.subject);
    expect(subjects.sort()).toEqual(['a', 'b', 'c', 'd']);

    for (let i = 1; i < FLOW_MAX_ATTEMPTS; i++) {
      clock.set(addSeconds(clock.now(), 31));
      expect((await flows.claimPending('test.sweep', 10)).length).toBe(4);
    }
    clock.advance(31_000);
    expect(await flows.claimPending('test.sweep', 10)).toEqual([]);
    const abandoned = await flows.abandonExhausted('test.sweep');
    expect(abandoned.map((r) => [r.subject, r.outcome]).sort()).toEqual([
      ['a', 'abandoned'],
      ['b', 'abandoned'],
      ['c', 'abandoned'],
      ['d', 'abandoned'],
    ]);
  });
});
