import { ManualClock } from '../../src/clock.ts';
import { createMemoryCoordination } from '../../src/coordination/memory.ts';
import { describeCoordinationContract } from './contract.ts';

describeCoordinationContract('memory', async () => {
  const clock = new ManualClock();
  const coordination = createMemoryCoordination({ clock });
  return {
    coordination,
    replica: async () => coordination,
    elapse: async (ms) => clock.advance(ms),
    shortTtlMs: 50,
    cleanup: () => coordination.close(),
  };
});
