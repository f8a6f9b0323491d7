/** What incident modals carry (private_metadata) and what their submissions hold (state.values). */
import { z } from 'zod';
import { cleanText, MAX_INCIDENT_NUMBER, slackUserId } from '../kit/input.ts';
import { LIMITS } from '../kit/limits.ts';

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
  n: z.number().int().positive().max(MAX_INCIDENT_NUMBER).optional(),
  /** Channel the user opened the modal from (for private answers). */
  c: z.string().max(40).optional(),
});
export type ModalMetadata = z.output<typeof modalMetadataSchema>;

export function encodeMetadata(metadata: ModalMetadata): string {
  const text = JSON.stringify(metadata);
  if (text.length > LIMITS.privateMetadata) throw new RangeError('private_metadata over 3,000 characters');
  return text;
}

/** The metadata the bot put in the modal; null when it is not (tampered, older version, not JSON). */
export function decodeMetadata(text: string | undefined): ModalMetadata | null {
  let json: unknown;
  try {
    json = JSON.parse(text || '{}');
  } catch {
    return null;
  }
  const parsed = modalMetadataSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
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

/**
 * Reads inputs where block_id and action_id are the same name (as all incident modals use). Every
 * value comes back without control characters; a user that is not a Slack user id reads as none.
 */
export class ModalValues {
  readonly #state: ViewState;
  private constructor(state: ViewState) {
    this.#state = state;
  }
  /** The submission's values; null when state.values is not in Slack's shape. */
  static parse(state: unknown): ModalValues | null {
    const parsed = viewStateSchema.safeParse(state);
    return parsed.success ? new ModalValues(parsed.data) : null;
  }
  #get(name: string) {
    return this.#state[name]?.[name];
  }
  text(name: string): string {
    return cleanText(this.#get(name)?.value ?? '').trim();
  }
  selected(name: string): string | undefined {
    const value = this.#get(name)?.selected_option?.value;
    return value === undefined ? undefined : cleanText(value);
  }
  selectedMany(name: string): string[] {
    return (this.#get(name)?.selected_options ?? []).map((o) => cleanText(o.value));
  }
  user(name: string): string | undefined {
    const parsed = slackUserId.safeParse(this.#get(name)?.selected_user);
    return parsed.success ? parsed.data : undefined;
  }
}
