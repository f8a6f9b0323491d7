/** A problem with what the user typed or clicked: shown to them privately, with how to do it right. */
export class UserInputError extends Error {
  override name = 'UserInputError';
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}
