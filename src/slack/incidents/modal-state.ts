/** What incident modals carry (private_metadata) and what their submissions hold (state.values). */
import { z } from 'zod';
import { LIMITS } from '../blocks/incident-limits.ts';

export const INCIDENT_VIEWS = {
  declare: 'incident_declare',
  update: 'incident_update',
  severity: 'incident_severity',
  role: 'incident_role',
  resolve: 'incident_resolve',
} as const;

/** private_metadata of incident modals: the incident (when there is one) and where the user was. */
export const modalMetadataSchema = z.object({
  /** Incident number. */
  n: z.number().int().positive().optional(),
  /** Channel the user opened the modal from (for private answers). */
  c: z.string().max(40).optional(),
});
export type ModalMetadata = z.output<typeof modalMetadataSchema>;

export function encodeMetadata(metadata: ModalMetadata): string {
  const text = JSON.stringify(metadata);
  if (text.length > LIMITS.privateMetadata) throw new RangeError('private_metadata over 3,000 characters');
  return text;
}

export function decodeMetadata(text: string | undefined): ModalMetadata {
  return modalMetadataSchema.parse(JSON.parse(text || '{}'));
}

const stateValue = z.object({
  type: z.string(),
  value: z.string().nullish(),
  selected_option: z.object({ value: z.string() }).nullish(),
  selected_options: z.array(z.object({ value: z.string() })).nullish(),
  selected_user: z.string().nullish(),
});

export const viewStateSchema = z.record(z.string(), z.record(z.string(), stateValue));
export type ViewState = z.output<typeof viewStateSchema>;

/** Reads inputs where block_id and action_id are the same name (as all incident modals use). */
export class ModalValues {
  readonly #state: ViewState;
  constructor(state: unknown) {
    this.#state = viewStateSchema.parse(state);
  }
  #get(name: string) {
    return this.#state[name]?.[name];
  }
  text(name: string): string {
    return (this.#get(name)?.value ?? '').trim();
  }
  selected(name: string): string | undefined {
    return this.#get(name)?.selected_option?.value ?? undefined;
  }
  selectedMany(name: string): string[] {
    return (this.#get(name)?.selected_options ?? []).map((o) => o.value);
  }
  user(name: string): string | undefined {
    return this.#get(name)?.selected_user ?? undefined;
  }
}
