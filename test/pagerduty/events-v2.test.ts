/** The Events API v2 adapter (fetch) against the in-process PagerDuty. */
import { type AddressInfo, createServer } from 'node:net';
import { EventsV2 } from '../../src/pagerduty/events-v2.ts';
import { describePagerDutyContract } from './contract.ts';
import { startPagerDutyFake } from './fake.ts';

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const unreachablePort = await closedPort();

describePagerDutyContract('Events API v2', async () => {
  const fake = await startPagerDutyFake();
  const deadlineMs = 400;
  return {
    pagerduty: new EventsV2({ endpoint: fake.url, deadlineMs, client: 'Runbook' }),
    unreachable: () => new EventsV2({ endpoint: `http://127.0.0.1:${unreachablePort}`, deadlineMs }),
    routingKey: 'R0UT1NGKEY0123456789ABCDEFGHIJKL',
    deadlineMs,
    failNext: (status, times) => fake.failNext(status, times),
    delayNext: (ms) => fake.delayNext(ms),
    requests: () => fake.requests,
    alertState: (key) => fake.alerts.get(key)?.state,
    close: () => fake.close(),
  };
});
