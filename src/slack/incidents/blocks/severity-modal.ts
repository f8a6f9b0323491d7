/** The change-severity modal: the new level and the reason (required). */
import type { ModalView } from '@slack/types';
import { Blocks, Elements, Modal } from 'slack-block-builder';
import type { SeverityConfig } from '../../../config/schema.ts';
import { type Incident, incidentId } from '../../../incidents/incident.ts';
import { encodeMetadata, INCIDENT_VIEWS, type ModalMetadata } from '../modal-state.ts';
import { asModal, modalTitle, severityOption } from './modal-parts.ts';

export const SEVERITY_FIELDS = { severity: 'severity', reason: 'reason' } as const;

export function buildSeverityModal(input: {
  incident: Incident;
  severities: readonly SeverityConfig[];
  metadata: ModalMetadata;
}): ModalView {
  const options = input.severities.map(severityOption);
  const select = Elements.StaticSelect({ actionId: SEVERITY_FIELDS.severity }).options(...options);
  const current = options[input.severities.findIndex((s) => s.name === input.incident.severity)];
  if (current) select.initialOption(current);
  return asModal(
    Modal({
      title: modalTitle(`Severity of ${incidentId(input.incident.number)}`),
      callbackId: INCIDENT_VIEWS.severity,
      submit: 'Change',
      close: 'Cancel',
      privateMetaData: encodeMetadata(input.metadata),
    })
      .blocks(
        Blocks.Input({ label: 'Severity', blockId: SEVERITY_FIELDS.severity }).element(select),
        Blocks.Input({ label: 'Reason', blockId: SEVERITY_FIELDS.reason }).element(
          Elements.TextInput({ actionId: SEVERITY_FIELDS.reason, multiline: true, maxLength: 2_500 }),
        ),
      )
      .buildToObject(),
  );
}
