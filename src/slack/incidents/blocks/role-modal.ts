/** The assign-role modal: which role, and who. */
import type { ModalView } from '@slack/types';
import { Blocks, Elements, Modal } from 'slack-block-builder';
import { type Incident, incidentId } from '../../../incidents/incident.ts';
import { encodeMetadata, INCIDENT_VIEWS, type ModalMetadata } from '../modal-state.ts';
import { asModal, modalTitle, option } from './modal-parts.ts';

export const ROLE_FIELDS = { role: 'role', user: 'user' } as const;

export function buildRoleModal(input: {
  incident: Incident;
  roles: readonly string[];
  metadata: ModalMetadata;
}): ModalView {
  return asModal(
    Modal({
      title: modalTitle(`Roles of ${incidentId(input.incident.number)}`),
      callbackId: INCIDENT_VIEWS.role,
      submit: 'Assign',
      close: 'Cancel',
      privateMetaData: encodeMetadata(input.metadata),
    })
      .blocks(
        Blocks.Input({ label: 'Role', blockId: ROLE_FIELDS.role }).element(
          Elements.StaticSelect({ actionId: ROLE_FIELDS.role }).options(
            ...input.roles.slice(0, 100).map((r) => option(r, r)),
          ),
        ),
        Blocks.Input({ label: 'Person', blockId: ROLE_FIELDS.user }).element(
          Elements.UserSelect({ actionId: ROLE_FIELDS.user }),
        ),
      )
      .buildToObject(),
  );
}
