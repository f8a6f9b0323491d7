import { describe, expect, it } from 'vitest';
import { escapeMrkdwn } from '../../../src/slack/kit/escape.ts';
import { splitSubcommand, unescapeSlackText } from '../../../src/slack/kit/slash-commands.ts';

describe('slash command text', () => {
  it('splits the subcommand from its arguments, case-insensitively', () => {
    expect(splitSubcommand('  Declare P1  Checkout down ')).toEqual({
      word: 'declare',
      args: 'P1  Checkout down',
    });
    expect(splitSubcommand('')).toEqual({ word: '', args: '' });
  });

  it('reads Slack’s entity-escaped text as typed, so output escaping happens once', () => {
    const sent = 'A &amp; B &lt;!channel&gt; <@U123|alice>';
    const typed = unescapeSlackText(sent);
    expect(typed).toBe('A & B <!channel> <@U123|alice>');
    expect(escapeMrkdwn(typed)).toBe('A &amp; B &lt;!channel&gt; &lt;@U123|alice&gt;');
  });
});
