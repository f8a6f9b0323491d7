/**
 * The modals that ask a deploy decision's reason: Reject (an approver says why) and Request as
 * emergency (the requester says why). A submission is claimed once (Postgres) before the domain call.
 */
import type { App, ViewResponseAction } from '@slack/bolt';
import type { View } from '@slack/types';
import { z } from 'zod';
import type { DecisionOutcome } from '../../deploy/deploy-service.ts';
import type { Services } from '../../services.ts';
import type { Operation } from '../../store/repositories/operations.ts';
import { escapeMrkdwn, truncate } from '../kit/escape.ts';
import { cleanText } from '../kit/input.ts';
import { claimOnce, VIEW_SUBMISSION_TTL_MS } from '../kit/once.ts';
import { unavailableText } from '../kit/unavailable.ts';
import { deployServiceFor } from './notifier.ts';

export const DEPLOY_VIEWS = { reject: 'deploy_reject', emergency: 'deploy_emergency' } as const;
type ReasonView = (typeof DEPLOY_VIEWS)[keyof typeof DEPLOY_VIEWS];

export const REASON_FIELD = 'reason';
const MAX_REASON = 1_000;

const metadataSchema = z.object({ o: z.string().max(40), c: z.string().max(40) });
type Metadata = z.output<typeof metadataSchema>;

const viewBody = z.object({
  user: z.object({ id: z.string() }),
  view: z.object({
    id: z.string(),
    private_metadata: z.string().optional(),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }))),
    }),
  }),
});

const WORDS: Record<ReasonView, { title: string; submit: string; label: string; hint: string }> = {
  deploy_reject: {
    title: 'Reject the change',
    submit: 'Reject',
    label: 'Why is it rejected?',
    hint: 'The requester, #deployments and the audit log see this.',
  },
  deploy_emergency: {
    title: 'Emergency change',
    submit: 'Request',
    label: 'Why can it not wait?',
    hint: 'An emergency passes deploy windows and freezes; the emergency approver group must approve it too.',
  },
};

export function buildReasonModal(kind: ReasonView, metadata: Metadata, op: Operation | null): View {
  const words = WORDS[kind];
  const what = op
    ? `*${escapeMrkdwn(op.kind)} ${escapeMrkdwn(op.service)}* (${escapeMrkdwn(op.environment)})`
    : 'the change';
  return {
    type: 'modal',
    callback_id: kind,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: words.title },
    submit: { type: 'plain_text', text: words.submit },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${what}: ${words.hint}` } },
      {
        type: 'input',
        block_id: REASON_FIELD,
        label: { type: 'plain_text', text: words.label },
        element: {
          type: 'plain_text_input',
          action_id: REASON_FIELD,
          multiline: true,
          max_length: MAX_REASON,
        },
      },
    ],
  };
}

export function registerReasonModals(
  app: App,
  services: Services,
  refusal: (outcome: DecisionOutcome, verb: string) => string | undefined,
): void {
  for (const kind of Object.values(DEPLOY_VIEWS)) {
    app.view(kind, async ({ ack, body, client }) => {
      const parsed = viewBody.safeParse(body);
      let metadata: Metadata | null = null;
      if (parsed.success) {
        try {
          const m = metadataSchema.safeParse(JSON.parse(parsed.data.view.private_metadata ?? ''));
          metadata = m.success ? m.data : null;
        } catch {
          metadata = null;
        }
      }
      if (!parsed.success || !metadata) {
        await ack({
          response_action: 'errors',
          errors: { [REASON_FIELD]: 'This form is out of date: click the button on the card again.' },
        } satisfies ViewResponseAction);
        return;
      }
      const reason = truncate(
        cleanText(parsed.data.view.state.values[REASON_FIELD]?.[REASON_FIELD]?.value ?? '').trim(),
        MAX_REASON,
      );
      if (reason === '') {
        await ack({
          response_action: 'errors',
          errors: { [REASON_FIELD]: 'Say why: a reason is required.' },
        } satisfies ViewResponseAction);
        return;
      }
      await ack();
      const user = parsed.data.user.id;
      const tell = async (text: string) => {
        if (!metadata.c) return;
        await client.chat
          .postEphemeral({ channel: metadata.c, user, text })
          .catch((error: unknown) => services.logger.warn({ err: error }, 'could not answer a deploy form'));
      };
      try {
        if (
          !(await claimOnce(
            services,
            `view:${parsed.data.view.id}`,
            'view_submission',
            VIEW_SUBMISSION_TTL_MS,
          ))
        )
          return;
        const deploy = deployServiceFor(services, client);
        const outcome =
          kind === DEPLOY_VIEWS.reject
            ? await deploy.reject(metadata.o, user, reason)
            : await deploy.requestEmergency(metadata.o, user, reason);
        const text = refusal(outcome, kind === DEPLOY_VIEWS.reject ? 'reject' : 'request');
        if (text) await tell(text);
      } catch (error) {
        services.logger.error({ err: error, view: kind }, 'deploy form failed');
        await tell(
          unavailableText(error) ?? ':x: Something went wrong. It has been logged; nothing was changed.',
        );
      }
    });
  }
}
