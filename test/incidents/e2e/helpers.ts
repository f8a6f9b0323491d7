/** Shared pieces of the incident e2e tests: a bot with a config of its own, declaring, waiting. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedResponse } from '../../../src/local/slack/server.ts';
import { startTestBot, type TestBot, type TestBotOptions } from '../../helpers/bot.ts';

export interface IncidentBot extends TestBot {
  /** Runs a slash command and waits for the bot's answer after the acknowledgement. */
  command(text: string, options?: { userId?: string; channelId?: string }): Promise<string>;
}

/** A bot with `config` (YAML) as its runbook config, and `env` (e.g. DATABASE_URL) over the test one. */
export async function startIncidentBot(
  configYaml = '',
  env: Record<string, string> = {},
  options: Pick<TestBotOptions, 'clock'> = {},
): Promise<IncidentBot> {
  const dir = mkdtempSync(join(tmpdir(), 'incident-e2e-'));
  const path = join(dir, 'runbook.yml');
  writeFileSync(path, configYaml || 'organisation: Test\n');
  const bot = await startTestBot({ ...options, env: { ...env, RUNBOOK_CONFIG: path } });
  return {
    ...bot,
    async command(text, options = {}) {
      const since = bot.sim.responses.length;
      const res = await bot.slack.slashCommand({
        command: '/incident',
        text,
        userId: options.userId ?? 'U_ALICE',
        channelId: options.channelId ?? 'C_INCIDENTS',
      });
      const inAck =
        typeof res.json === 'object' && res.json !== null && 'text' in res.json ? res.json.text : undefined;
      if (typeof inAck === 'string') return inAck;
      const response: RecordedResponse = await bot.sim.waitForResponse({ since });
      return String(response.body.text ?? '');
    },
    async stop() {
      await bot.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` stops throwing (for work the bot does after answering). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 8_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
