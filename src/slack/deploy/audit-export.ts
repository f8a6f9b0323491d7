/**
 * `/deploy audit export`: the CSV goes to the user in a direct message, as a file (Slack's external
 * upload flow, filesUploadV2), for change-management reviews.
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { AuditExport } from '../../deploy/audit.ts';
import type { Logger } from '../../logger.ts';
import { escapeMrkdwn, slackDate } from '../kit/escape.ts';
import { slackErrorCode } from '../kit/slack-steps.ts';

/** The upload may carry megabytes: longer than a message, still bounded. */
export const EXPORT_UPLOAD_DEADLINE_MS = 15_000;

const openedIm = z.object({ channel: z.object({ id: z.string().min(1) }) });

class UploadDeadline extends Error {}

export interface ExportScope {
  service: string | undefined;
  sinceText: string;
  since: Date;
  now: Date;
}

export function exportFileName(scope: ExportScope): string {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return `audit-${scope.service ?? 'all'}-${day(scope.since)}-to-${day(scope.now)}.csv`;
}

function describe(scope: ExportScope, result: AuditExport): string {
  const who = scope.service ? `\`${escapeMrkdwn(scope.service)}\`` : 'all services';
  const count = `${result.records} audit record${result.records === 1 ? '' : 's'}`;
  const cut = result.truncated
    ? ` (the newest ${result.records} of ${result.total}: a shorter \`--since\` gets the older ones)`
    : '';
  return `${count}${cut} for ${who} since ${slackDate(scope.since)} (last ${escapeMrkdwn(scope.sinceText)})`;
}

export type SendOutcome = { ok: true; text: string } | { ok: false; text: string };

/** Uploads the CSV into the user's DM; says in plain words what happened, never throws Slack errors. */
export async function sendAuditExport(
  client: WebClient,
  userId: string,
  scope: ExportScope,
  result: AuditExport,
  logger: Logger,
): Promise<SendOutcome> {
  const what = describe(scope, result);
  let timer: NodeJS.Timeout | undefined;
  try {
    const upload = (async () => {
      const opened = openedIm.parse(await client.conversations.open({ users: userId }));
      await client.filesUploadV2({
        channel_id: opened.channel.id,
        filename: exportFileName(scope),
        title: `Audit log: ${scope.service ?? 'all services'}, last ${scope.sinceText}`,
        content: result.csv,
        initial_comment: `:ledger: ${what}. Times are UTC; oldest first.`,
      });
    })();
    // Past the deadline nobody waits for it, but its failure must still be handled.
    upload.catch(() => undefined);
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new UploadDeadline()), EXPORT_UPLOAD_DEADLINE_MS);
    });
    await Promise.race([upload, deadline]);
    return { ok: true, text: `:page_facing_up: Sent ${what} to you in a direct message, as a CSV file.` };
  } catch (error) {
    if (error instanceof UploadDeadline) {
      logger.warn(
        { deadlineMs: EXPORT_UPLOAD_DEADLINE_MS },
        'audit export: Slack did not confirm the upload in time',
      );
      return {
        ok: false,
        text: `:hourglass: Slack did not confirm the CSV upload within ${EXPORT_UPLOAD_DEADLINE_MS / 1000} s; it may still arrive in your direct messages. Nothing was changed.`,
      };
    }
    logger.warn({ err: error, slackError: slackErrorCode(error) }, 'audit export: the CSV upload failed');
    return {
      ok: false,
      text: `:x: Slack did not take the CSV file (\`${escapeMrkdwn(slackErrorCode(error))}\`), so nothing was sent. Nothing was changed; try again in a minute.`,
    };
  } finally {
    clearTimeout(timer);
  }
}
