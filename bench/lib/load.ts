/**
 * Open-loop load: requests are scheduled by the clock at a fixed rate, never by completions, so a
 * slow server shows up as latency (and in-flight requests pile up) instead of as a lower rate.
 *
 * Targets take turns in short time slices (A for one slice, then B, then A…) rather than running
 * concurrently or one whole run after the other:
 * - concurrently, the two servers would compete for this 2-core machine's CPUs and each would be
 *   measured under the other's load;
 * - one after the other, anything else happening on the machine during one half (other test runs,
 *   a GC-heavy neighbour) would land on one target only.
 * With alternating slices each target has the machine to itself while it is measured, and outside
 * noise spreads evenly over both. Slices before `warmupMs` (per target) are sent but not recorded
 * (JIT warm-up, first connections, Bolt's lazy auth.test).
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { signSlackRequest, slackTimestampNow } from '../../src/local/slack/signing.ts';

export interface LoadTarget {
  name: string;
  /** Where Slack would POST: http://127.0.0.1:PORT/slack/events. */
  eventsUrl: string;
  signingSecret: string;
}

export interface SlashCommandLine {
  command: string;
  text: string;
}

export interface LoadPlan {
  targets: readonly LoadTarget[];
  /** Commands sent in turn to each target (one series per target and command). */
  commands: readonly SlashCommandLine[];
  /** Requests per second sent to the target whose slice it is. */
  rate: number;
  /** Measured time per target. */
  measureMs: number;
  /** Unrecorded warm-up time per target. */
  warmupMs: number;
  sliceMs: number;
  /** A request not answered by then counts as an error (Slack gives up after 3 s). */
  requestTimeoutMs: number;
  /** The form body Slack would send for this command (fresh trigger_id / response_url each time). */
  buildBody(target: LoadTarget, line: SlashCommandLine): string;
}

export interface Series {
  target: string;
  command: string;
  /** Latency of each successful request, ms: request written → whole answer read. */
  latenciesMs: number[];
  errors: number;
  /** The first few error descriptions. */
  errorSamples: string[];
  /** Size of the first successful answer (what the ack carried). */
  firstAckBytes: number | undefined;
  firstAckContentType: string | undefined;
}

export interface LoadResult {
  series: Series[];
  /** How late the generator sent each measured request against its schedule, ms. */
  generatorLagMs: number[];
  /** Requests sent to each target, warm-up included. */
  sentPerTarget: Map<string, number>;
  /** Measured schedule time per target, ms. */
  measuredMsPerTarget: number;
  wallMs: number;
}

interface Answer {
  status: number;
  body: string;
  contentType: string | undefined;
}

/** POSTs a signed slash command exactly as Slack does (form-encoded, v0 signature). */
function postSigned(agent: Agent, target: LoadTarget, body: string, timeoutMs: number): Promise<Answer> {
  const timestamp = slackTimestampNow();
  return new Promise((resolve, reject) => {
    const req = request(
      target.eventsUrl,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signSlackRequest(target.signingSecret, timestamp, body),
          'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            contentType: res.headers['content-type'],
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function runAlternatingOpenLoop(plan: LoadPlan): Promise<LoadResult> {
  if (plan.targets.length === 0 || plan.commands.length === 0) throw new Error('nothing to send');
  const agent = new Agent({ keepAlive: true });
  const perSlice = Math.max(1, Math.round((plan.rate * plan.sliceMs) / 1000));
  const intervalMs = plan.sliceMs / perSlice;
  const warmupSlices = Math.ceil(plan.warmupMs / plan.sliceMs);
  const measureSlices = Math.max(1, Math.ceil(plan.measureMs / plan.sliceMs));
  const slicesPerTarget = warmupSlices + measureSlices;
  const total = slicesPerTarget * plan.targets.length * perSlice;

  const series = new Map<string, Series>();
  const key = (target: LoadTarget, line: SlashCommandLine) => `${target.name}\u0000${line.command}`;
  for (const target of plan.targets) {
    for (const line of plan.commands) {
      series.set(key(target, line), {
        target: target.name,
        command: `${line.command} ${line.text}`.trim(),
        latenciesMs: [],
        errors: 0,
        errorSamples: [],
        firstAckBytes: undefined,
        firstAckContentType: undefined,
      });
    }
  }
  const generatorLagMs: number[] = [];
  const inflight = new Set<Promise<void>>();
  const sentPerTarget = new Map<string, number>();

  const fire = (target: LoadTarget, scheduledMs: number, startedAt: number, measured: boolean): void => {
    const count = sentPerTarget.get(target.name) ?? 0;
    sentPerTarget.set(target.name, count + 1);
    const line = plan.commands[count % plan.commands.length]!;
    const record = series.get(key(target, line))!;
    const body = plan.buildBody(target, line);
    const sentAt = performance.now();
    if (measured) generatorLagMs.push(sentAt - startedAt - scheduledMs);
    const fail = (what: string): void => {
      if (!measured) return;
      record.errors += 1;
      if (record.errorSamples.length < 5) record.errorSamples.push(what);
    };
    const done = postSigned(agent, target, body, plan.requestTimeoutMs).then(
      (answer) => {
        const latency = performance.now() - sentAt;
        if (answer.status !== 200) return fail(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
        if (!measured) return;
        record.latenciesMs.push(latency);
        if (record.firstAckBytes === undefined) {
          record.firstAckBytes = Buffer.byteLength(answer.body);
          record.firstAckContentType = answer.contentType;
        }
      },
      (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
    );
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  };

  const startedAt = performance.now();
  let index = 0;
  try {
    while (index < total) {
      const now = performance.now() - startedAt;
      for (; index < total; index += 1) {
        const slice = Math.floor(index / perSlice);
        const scheduledMs = slice * plan.sliceMs + (index % perSlice) * intervalMs;
        if (scheduledMs > now) break;
        const target = plan.targets[slice % plan.targets.length]!;
        const round = Math.floor(slice / plan.targets.length);
        fire(target, scheduledMs, startedAt, round >= warmupSlices);
      }
      if (index >= total) break;
      const slice = Math.floor(index / perSlice);
      const nextMs = slice * plan.sliceMs + (index % perSlice) * intervalMs;
      await sleep(Math.max(0, nextMs - (performance.now() - startedAt)));
    }
    await Promise.all(inflight);
  } finally {
    agent.destroy();
  }
  return {
    series: [...series.values()],
    generatorLagMs,
    sentPerTarget,
    measuredMsPerTarget: measureSlices * plan.sliceMs,
    wallMs: performance.now() - startedAt,
  };
}
