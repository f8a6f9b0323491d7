/** Shared pieces of the incident e2e tests: a bot with a config of its own, declaring, waiting. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '../../../src/incidents/incident.ts';
import type { RecordedResponse } from '../../../src/local/slack/server.ts';
import { startTestBot, type TestBot, type TestBotOptions } from '../../helpers/bot.ts';
import { eventually } from '../../helpers/until.ts';

export interface IncidentBot extends TestBot {
  /** Runs a slash command and waits for the bot's answer after the acknowledgement. */
  command(text: string, options?: { userId?: string; channelId?: string }): Promise<string>;
  /** `/incident declare <text>`, once its Slack setup is done (channel and headline). */
  declare(text: string): Promise<Incident>;
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
  const incidentBot: IncidentBot = {
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
    async declare(text) {
      const answer = await incidentBot.command(`declare ${text}`);
      const number = Number(/INC-(\d+)/.exec(answer)?.[1]);
      return eventually(async () => {
        const found = await bot.runtime.services.repos.incidents.get(number);
        if (!found?.channelId || !found.headline) throw new Error(`not set up: ${answer}`);
        return found;
      });
    },
    async stop() {
      await bot.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return incidentBot;
}

export { eventually } from '../../helpers/until.ts';

/**
 * Runs the bot's due timers until a few polls in a row find nothing due (a page waits for the
 * incident's setup, then is sent; a send schedules the next page of the incident).
 */
export async function runDueTimers(bot: TestBot): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const { taken } = await bot.runtime.timers.poll();
    if (taken === 0 && i > 1) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
