/** The declare modal: title, severity, affected services, what is known, commander, channel. */
import type { ModalView } from '@slack/types';
import { Blocks, Elements, Modal } from 'slack-block-builder';
import type { RunbookConfig } from '../../../config/schema.ts';
import { encodeMetadata, INCIDENT_VIEWS, type ModalMetadata } from '../modal-state.ts';
import { asModal, modalTitle, option, severityOption } from './modal-parts.ts';

export const DECLARE_FIELDS = {
  title: 'title',
  severity: 'severity',
  services: 'services',
  summary: 'summary',
  commander: 'commander',
  channel: 'channel',
} as const;

/** The checkbox value that asks for a dedicated channel. */
export const CREATE_CHANNEL = 'create_channel';

export const MAX_TITLE_INPUT = 250;
export const MAX_SUMMARY_INPUT = 2_500;

export function buildDeclareModal(input: {
  config: RunbookConfig;
  declarer: string;
  metadata: ModalMetadata;
  title?: string;
  severity?: string;
  /** Affected services picked already (configured names only). */
  services?: readonly string[];
  /** "What is known", prefilled. */
  summary?: string;
}): ModalView {
  const { config } = input;
  const severities = config.severities.map(severityOption);
  const initialSeverity = severities.find((_, i) => config.severities[i]?.name === input.severity);
  const serviceNames = [...new Set(config.services.map((s) => s.name))].slice(0, 100);
  const channelOption = option('Open a dedicated incident channel', CREATE_CHANNEL);
  const servicesSelect = Elements.StaticMultiSelect({ actionId: DECLARE_FIELDS.services }).options(
    ...serviceNames.map((name) => option(name, name)),
  );
  const picked = serviceNames.filter((name) => input.services?.includes(name));
  if (picked.length > 0) servicesSelect.initialOptions(...picked.map((name) => option(name, name)));
  const severity = Elements.StaticSelect({
    actionId: DECLARE_FIELDS.severity,
    placeholder: 'How bad is it?',
  }).options(...severities);
  if (initialSeverity) severity.initialOption(initialSeverity);
  const channel = Elements.Checkboxes({ actionId: DECLARE_FIELDS.channel }).options(channelOption);
  if (config.incidents.createChannel) channel.initialOptions(channelOption);

  return asModal(
    Modal({
      title: modalTitle('Declare an incident'),
      callbackId: INCIDENT_VIEWS.declare,
      submit: 'Declare',
      close: 'Cancel',
      privateMetaData: encodeMetadata(input.metadata),
    })
      .blocks(
        Blocks.Input({ label: 'Title', blockId: DECLARE_FIELDS.title }).element(
          Elements.TextInput({
            actionId: DECLARE_FIELDS.title,
            maxLength: MAX_TITLE_INPUT,
            placeholder: 'Checkout returns 500s',
            ...(input.title ? { initialValue: input.title.slice(0, MAX_TITLE_INPUT) } : {}),
          }),
        ),
        Blocks.Input({ label: 'Severity', blockId: DECLARE_FIELDS.severity }).element(severity),
        ...(serviceNames.length > 0
          ? [
              Blocks.Input({ label: 'Affected services', blockId: DECLARE_FIELDS.services })
                .optional()
                .element(servicesSelect),
            ]
          : []),
        Blocks.Input({ label: 'What is known', blockId: DECLARE_FIELDS.summary })
          .optional()
          .element(
            Elements.TextInput({
              actionId: DECLARE_FIELDS.summary,
              multiline: true,
              maxLength: MAX_SUMMARY_INPUT,
              ...(input.summary ? { initialValue: input.summary.slice(0, MAX_SUMMARY_INPUT) } : {}),
            }),
          ),
        Blocks.Input({ label: 'Commander', blockId: DECLARE_FIELDS.commander }).element(
          Elements.UserSelect({ actionId: DECLARE_FIELDS.commander }).initialUser(input.declarer),
        ),
        Blocks.Input({ label: 'Channel', blockId: DECLARE_FIELDS.channel }).optional().element(channel),
      )
      .buildToObject(),
  );
}
