import type { AckFn, App, RespondArguments, RespondFn, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { unknownSubcommand } from '../../../templates/help.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { closestMatches } from '../../util/closest.ts';
import { countSlackApiError } from './api-error-metric.ts';
import type { CommandInvocation, Reply, SlashCommandSpec, Subcommand } from './command.ts';
import { UserInputError } from './errors.ts';
import { escapeMrkdwn } from './escape.ts';
import { cleanText } from './input.ts';
import { claimOnce, digest, SLASH_COMMAND_TTL_MS } from './once.ts';
import { unavailableText } from './unavailable.ts';

/** Slack wants an answer within 3 s: a handler that has not acknowledged by then is acknowledged for it. */
const AUTO_ACK_MS = 2_000;

/**
 * Slack sends `&`, `<` and `>` typed by the user as `&amp;`, `&lt;` and `&gt;` (mentions, with
 * should_escape, as `<@U123|name>`). Commands see the text as typed; output escapes it again.
 */
export function unescapeSlackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Splits "declare P1 Checkout down" into the subcommand word and the rest. */
export function splitSubcommand(text: string): { word: string; args: string } {
  const trimmed = text.trim();
  const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!match) return { word: '', args: '' };
  return { word: (match[1] ?? '').toLowerCase(), args: (match[2] ?? '').trim() };
}

export function findSubcommand(spec: SlashCommandSpec, word: string): Subcommand | undefined {
  return spec.subcommands.find((s) => s.name === word || s.aliases?.includes(word));
}

function userErrorReply(error: UserInputError): Reply {
  const text = `:warning: ${error.message}${error.hint ? `\n${error.hint}` : ''}`;
  return { text };
}

/** Registers one slash command and dispatches its subcommands. */
export function registerSlashCommand(app: App, spec: SlashCommandSpec, services: Services): void {
  app.command(spec.command, async ({ ack, respond, command, client }) => {
    await dispatch(spec, services, { ack, respond, command, client });
  });
}

interface BoltCommandArgs {
  ack: AckFn<string | RespondArguments>;
  respond: RespondFn;
  command: SlashCommand;
  client: WebClient;
}

async function dispatch(spec: SlashCommandSpec, services: Services, bolt: BoltCommandArgs): Promise<void> {
  const { metrics } = services;
  const started = performance.now();
  const { word, args } = splitSubcommand(cleanText(unescapeSlackText(bolt.command.text ?? '')));
  const subcommand = word === '' ? findSubcommand(spec, 'help') : findSubcommand(spec, word);
  const label = subcommand?.name ?? 'unknown';
  // Made on first use: a pino child serialises its bindings through the redaction when it is created,
  // which would cost every command before its ack although most never log.
  let childLogger: Logger | undefined;
  const logger = (): Logger =>
    (childLogger ??= services.logger.child({
      command: spec.command,
      subcommand: label,
      user: bolt.command.user_id,
      channel: bolt.command.channel_id,
    }));

  let acked = false;
  const ack = async (message?: Reply): Promise<void> => {
    if (acked) return;
    acked = true;
    await (message ? bolt.ack({ response_type: 'ephemeral', ...message }) : bolt.ack());
  };
  const reply = async (message: Reply): Promise<void> => {
    if (!acked) return ack(message);
    await bolt.respond({ response_type: 'ephemeral', replace_original: false, ...message });
  };

  if (!subcommand) {
    const names = spec.subcommands.flatMap((s) => [s.name, ...(s.aliases ?? [])]);
    const shown = escapeMrkdwn(word.slice(0, 50));
    await reply({ text: unknownSubcommand(spec.command, shown, closestMatches(word, names)) });
    metrics.requests.inc({ command: spec.command, subcommand: 'unknown', outcome: 'user_error' });
    return;
  }

  const invocation: CommandInvocation = {
    payload: bolt.command,
    spec,
    command: spec.command,
    subcommand: subcommand.name,
    args,
    client: bolt.client,
    services,
    get logger() {
      return logger();
    },
    ack: () => ack(),
    ackOnce: async () => {
      await ack();
      // Slack's retries and the same delivery reaching another replica carry the same trigger id.
      const key = `slash:${digest(`${spec.command}\n${bolt.command.trigger_id}`)}`;
      const first = await claimOnce(services, key, 'slash_command', SLASH_COMMAND_TTL_MS);
      if (!first) logger().info('repeated delivery of a slash command ignored');
      return first;
    },
    reply,
    replyInChannel: async (message) => {
      await ack();
      await bolt.respond({ response_type: 'in_channel', ...message });
    },
  };

  const autoAck = setTimeout(() => {
    ack().catch((error: unknown) => logger().error({ err: error }, 'automatic acknowledgement failed'));
  }, AUTO_ACK_MS);
  let outcome = 'ok';
  try {
    await subcommand.run(invocation);
  } catch (error) {
    if (error instanceof UserInputError) {
      outcome = 'user_error';
      await reply(userErrorReply(error));
    } else {
      const unavailable = unavailableText(error);
      outcome = unavailable ? 'unavailable' : 'error';
      countSlackApiError(services.metrics, error, `${spec.command} ${subcommand.name}`);
      logger().error(
        { err: error, args },
        unavailable ? 'slash command failed: a dependency is unreachable' : 'slash command failed',
      );
      await reply({
        text:
          unavailable ??
          `:x: Something went wrong running \`${spec.command} ${subcommand.name}\`. It has been logged; try again, and if it keeps failing tell the bot's operators.`,
      }).catch((replyError: unknown) =>
        logger().error({ err: replyError }, 'could not tell the user about a failure'),
      );
    }
  } finally {
    clearTimeout(autoAck);
    await ack().catch((error: unknown) => logger().error({ err: error }, 'acknowledgement failed'));
    metrics.requests.inc({ command: spec.command, subcommand: subcommand.name, outcome });
    metrics.handlerSeconds.observe(
      { command: spec.command, subcommand: subcommand.name },
      (performance.now() - started) / 1000,
    );
  }
}
