/** Errors of the incident domain: messages a responder can act on. */

export class IncidentNotFoundError extends Error {
  override name = 'IncidentNotFoundError';
  readonly number: number;
  constructor(number: number) {
    super(`There is no incident INC-${number}.`);
    this.number = number;
  }
}

/** The incident is not in a state that allows the action (e.g. updating a resolved incident). */
export class IncidentStateError extends Error {
  override name = 'IncidentStateError';
}

export class UnknownRoleError extends Error {
  override name = 'UnknownRoleError';
  readonly valid: string[];
  constructor(word: string, roles: readonly string[]) {
    super(`"${word}" is not an incident role. Roles: ${roles.join(', ')}.`);
    this.valid = [...roles];
  }
}

/** Input the domain refuses (blank title, blank reason…). */
export class IncidentInputError extends Error {
  override name = 'IncidentInputError';
}
