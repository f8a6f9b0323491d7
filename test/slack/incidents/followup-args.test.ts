import { describe, expect, it } from 'vitest';
import { parseFollowupArgs } from '../../../src/slack/incidents/followup-args.ts';
import { UserInputError } from '../../../src/slack/kit/errors.ts';

const now = new Date('2026-03-02T15:30:00Z');
const parse = (text: string) => parseFollowupArgs(text, 'INC-4', now);
const refusal = (text: string): string => {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof UserInputError) return `${error.message} ${error.hint ?? ''}`;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
};

describe('/incident followup arguments', () => {
  it('reads add with an owner, text and the due forms', () => {
    expect(parse('add <@U_BOB|bob> Fix the  alert')).toEqual({
      verb: 'add',
      owner: 'U_BOB',
      text: 'Fix the alert',
      dueAt: null,
    });
    const due = (word: string) =>
      (parse(`add <@U_BOB> x due ${word}`) as { dueAt: Date }).dueAt.toISOString();
    expect(due('2026-03-09')).toBe('2026-03-09T09:00:00.000Z');
    expect(due('today')).toBe('2026-03-02T09:00:00.000Z');
    expect(due('tomorrow')).toBe('2026-03-03T09:00:00.000Z');
    expect(due('3d')).toBe('2026-03-05T15:30:00.000Z');
    expect(due('2w')).toBe('2026-03-16T15:30:00.000Z');
    expect(due('12h')).toBe('2026-03-03T03:30:00.000Z');
    // "due" inside the text is text.
    expect(parse('add <@U_BOB> pay the due invoice first')).toMatchObject({
      text: 'pay the due invoice first',
    });
  });

  it('reads list and done', () => {
    expect(parse('list')).toEqual({ verb: 'list' });
    expect(parse('done #3')).toEqual({ verb: 'done', number: 3 });
    expect(parse('DONE 12')).toEqual({ verb: 'done', number: 12 });
  });

  it('refuses bad input saying how to write it, echoing it escaped', () => {
    expect(refusal('add @bob x')).toContain('`@bob` is not a person');
    expect(refusal('add <@U_BOB> x due 2026-13-01')).toContain('`2026-13-01` is not a due date');
    expect(refusal('add <@U_BOB> x due 2026-03-01')).toContain('in the past');
    expect(refusal('add <@U_BOB> x due 2030-01-01')).toContain('more than two years');
    expect(refusal('add <@U_BOB> x due')).toContain('`due` needs a date');
    expect(refusal('add <@U_BOB> due 3d')).toContain('needs a description');
    expect(refusal('done 0')).toContain('is not a follow-up number');
    expect(refusal('done')).toContain('Say which follow-up');
    const odd = refusal('remove <!here> `x`');
    expect(odd).toContain('&lt;!here&gt;');
    expect(odd).not.toContain('<!here>');
    expect(odd).toContain('/incident followup INC-4 add @owner');
  });
});
