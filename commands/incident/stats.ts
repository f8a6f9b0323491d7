import type { Subcommand } from '../../src/slack/kit/command.ts';
import { parseStatsArgs } from '../../src/slack/stats/args.ts';
import { buildStatsReply } from '../../src/slack/stats/blocks.ts';
import { configuredServices, Stats } from '../../src/stats/stats.ts';

/** `stats [--since 30d] [service]`: incident times, deploy figures and the error budget. */
export const stats: Subcommand = {
  name: 'stats',
  aliases: ['metrics'],
  usage: 'stats [--since 30d] [service]',
  summary: 'incident times, updates on time, escalations, change failure rate and the error budget',
  async run(invocation) {
    const { services } = invocation;
    await invocation.ack();
    const names = configuredServices(services.config).map((s) => s.name);
    const request = parseStatsArgs(invocation.args, names);
    const stats = new Stats({ stats: services.repos.stats, config: services.config, clock: services.clock });
    const report = await stats.report({
      sinceMs: request.sinceMs,
      ...(request.service ? { service: request.service } : {}),
    });
    await invocation.reply(buildStatsReply(report, request.sinceText));
  },
};
