/** The status update modal: status, impact, next step and when the next update is due. */
import type { ModalView } from '@slack/types';
import { Blocks, Elements, Modal } from 'slack-block-builder';
import { formatDuration } from '../../../config/duration.ts';
import { type Incident, incidentId } from '../../../incidents/incident.ts';
import { OPEN_STATUSES, STATUS_LABEL } from '../../../incidents/status.ts';
import { encodeMetadata, INCIDENT_VIEWS, type ModalMetadata } from '../modal-state.ts';
import { asModal, modalTitle, option } from './modal-parts.ts';

export const UPDATE_FIELDS = {
  status: 'status',
  impact: 'impact',
  nextStep: 'next_step',
  nextUpdate: 'next_update',
} as const;

const MINUTE = 60_000;
const NEXT_UPDATE_CHOICES = [15, 30, 60, 120, 240, 480, 1_440].map((m) => m * MINUTE);

/** Choices for the next update (in ms), including the severity's cadence. */
export function nextUpdateChoices(cadenceMs: number): number[] {
  return [...new Set([...NEXT_UPDATE_CHOICES, cadenceMs])].filter((ms) => ms > 0).sort((a, b) => a - b);
}

export function buildUpdateModal(input: {
  incident: Incident;
  cadenceMs: number;
  metadata: ModalMetadata;
}): ModalView {
  const { incident } = input;
  const statuses = OPEN_STATUSES.map((s) => option(STATUS_LABEL[s], s));
  const current = statuses[Math.max(0, OPEN_STATUSES.indexOf(incident.status))];
  const choices = nextUpdateChoices(input.cadenceMs).map((ms) =>
    option(`In ${formatDuration(ms)}${ms === input.cadenceMs ? ' (severity cadence)' : ''}`, String(ms)),
  );
  const cadence = choices.find((_, i) => nextUpdateChoices(input.cadenceMs)[i] === input.cadenceMs);
  const status = Elements.StaticSelect({ actionId: UPDATE_FIELDS.status }).options(...statuses);
  if (current) status.initialOption(current);
  const next = Elements.StaticSelect({ actionId: UPDATE_FIELDS.nextUpdate }).options(...choices);
  if (cadence) next.initialOption(cadence);

  return asModal(
    Modal({
      title: modalTitle(`Update ${incidentId(incident.number)}`),
      callbackId: INCIDENT_VIEWS.update,
      submit: 'Post update',
      close: 'Cancel',
      privateMetaData: encodeMetadata(input.metadata),
    })
      .blocks(
        Blocks.Input({ label: 'Status', blockId: UPDATE_FIELDS.status }).element(status),
        Blocks.Input({ label: 'Impact', blockId: UPDATE_FIELDS.impact }).element(
          Elements.TextInput({
            actionId: UPDATE_FIELDS.impact,
            multiline: true,
            maxLength: 2_500,
            placeholder: 'Who is affected and how',
            ...(incident.impact ? { initialValue: incident.impact.slice(0, 2_500) } : {}),
          }),
        ),
        Blocks.Input({ label: 'Next step', blockId: UPDATE_FIELDS.nextStep })
          .optional()
          .element(
            Elements.TextInput({ actionId: UPDATE_FIELDS.nextStep, multiline: true, maxLength: 2_500 }),
          ),
        Blocks.Input({ label: 'Next update', blockId: UPDATE_FIELDS.nextUpdate }).element(next),
      )
      .buildToObject(),
  );
}
