/** A JSON object as stored in jsonb columns and recorded flow steps. */
export type JsonObject = Record<string, unknown>;
