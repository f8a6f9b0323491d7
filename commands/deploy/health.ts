import { parseHealthArgs } from '../../src/slack/health/args.ts';
import { buildMultiReport, buildServiceReport } from '../../src/slack/health/blocks/report.ts';
import { encodeAllPost, encodeServicePost, encodeWatch } from '../../src/slack/health/button-values.ts';
import { findCheckableService } from '../../src/slack/health/lookup.ts';
import { startHealthWatch } from '../../src/slack/health/watch-message.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';
import { noCheckedServices } from '../../templates/health.ts';

/**
 * `/deploy health <service> [environment] [--watch] [--every 10s] [--for 5m]` and `/deploy health all`:
 * acknowledges at once, checks after the ack, answers privately with a "Post to channel" button
 * (and "Watch until healthy" when not healthy). `--watch` posts a message in the channel updated
 * until the service is healthy.
 */
export const deployHealth: Subcommand = {
  name: 'health',
  usage: 'health <service> [environment] [--watch [--every 10s] [--for 5m]] | health all',
  summary: 'check the health of a service (or all), optionally watching until it is healthy',
  async run(invocation) {
    const { services } = invocation;
    const args = parseHealthArgs(invocation.args);
    if (args.kind === 'all') {
      await invocation.ack();
      const reports = await services.health.checkAll();
      if (reports.length === 0) return invocation.reply({ text: noCheckedServices });
      return invocation.reply(buildMultiReport(reports, { postValue: encodeAllPost() }));
    }
    const service = findCheckableService(services.health, args.service, args.environment);
    if (args.watch) {
      if (!(await invocation.ackOnce())) return;
      await startHealthWatch(services, {
        client: invocation.client,
        channelId: invocation.payload.channel_id,
        service: service.name,
        environment: service.environment,
        userId: invocation.payload.user_id,
        ...args.watch,
      });
      return;
    }
    await invocation.ack();
    const report = await services.health.checkService(service.name, service.environment);
    await invocation.reply(
      buildServiceReport(report, {
        postValue: encodeServicePost(report),
        ...(report.status === 'healthy'
          ? {}
          : { watchValue: encodeWatch(service.name, service.environment) }),
      }),
    );
  },
};
