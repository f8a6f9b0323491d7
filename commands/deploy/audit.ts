import { subMilliseconds } from 'date-fns/subMilliseconds';
import { AuditLog } from '../../src/deploy/audit.ts';
import { parseAuditArgs } from '../../src/slack/deploy/audit-args.ts';
import { sendAuditExport } from '../../src/slack/deploy/audit-export.ts';
import { buildAuditList } from '../../src/slack/deploy/audit-list.ts';
import type { Subcommand } from '../../src/slack/kit/command.ts';

/** `/deploy audit [service] [--since 7d] [--page N]` and `/deploy audit export [service] [--since 30d]`. */
export const deployAudit: Subcommand = {
  name: 'audit',
  usage: 'audit [service] [--since 7d] [--page N] | audit export [service] [--since 30d]',
  summary: 'who did what to which service: the audit log, or a CSV of it sent to you',
  async run(invocation) {
    const { services, payload } = invocation;
    const request = parseAuditArgs(invocation.args);
    const now = services.clock.now();
    const since = subMilliseconds(now, request.sinceMs);
    const query = { since, ...(request.service ? { service: request.service } : {}) };
    const log = new AuditLog(services);
    if (request.kind === 'list') {
      await invocation.ack();
      const page = await log.page(query, request.page);
      const serviceConfigured = services.config.services.some((s) => s.name === request.service);
      return invocation.reply(buildAuditList(page, { ...request, since, serviceConfigured }));
    }
    // The export posts a file: once per delivery, even when Slack retries the command.
    if (!(await invocation.ackOnce())) return;
    const result = await log.export(query);
    const scope = { service: request.service, sinceText: request.sinceText, since, now };
    const sent = await sendAuditExport(invocation.client, payload.user_id, scope, result, invocation.logger);
    await invocation.reply({ text: sent.text });
  },
};
