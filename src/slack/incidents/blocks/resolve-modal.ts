/** The resolve modal: how it was resolved and the root cause. */
import type { ModalView } from '@slack/types';
import { Blocks, Elements, Modal } from 'slack-block-builder';
import { type Incident, incidentId } from '../../../incidents/incident.ts';
import { encodeMetadata, INCIDENT_VIEWS, type ModalMetadata } from '../modal-state.ts';
import { asModal, modalTitle } from './modal-parts.ts';

export const RESOLVE_FIELDS = { resolution: 'resolution', rootCause: 'root_cause' } as const;

export function buildResolveModal(input: { incident: Incident; metadata: ModalMetadata }): ModalView {
  return asModal(
    Modal({
      title: modalTitle(`Resolve ${incidentId(input.incident.number)}`),
      callbackId: INCIDENT_VIEWS.resolve,
      submit: 'Resolve',
      close: 'Cancel',
      privateMetaData: encodeMetadata(input.metadata),
    })
      .blocks(
        Blocks.Input({ label: 'Resolution', blockId: RESOLVE_FIELDS.resolution }).element(
          Elements.TextInput({
            actionId: RESOLVE_FIELDS.resolution,
            multiline: true,
            maxLength: 2_500,
            placeholder: 'Rolled back to v1.4.2; error rate back to normal',
          }),
        ),
        Blocks.Input({ label: 'Root cause', blockId: RESOLVE_FIELDS.rootCause })
          .optional()
          .element(
            Elements.TextInput({ actionId: RESOLVE_FIELDS.rootCause, multiline: true, maxLength: 2_500 }),
          ),
      )
      .buildToObject(),
  );
}
