import type { SlashCommand } from '@slack/bolt';
import type { Block, KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';

/** A private answer to the user who typed the command. */
export interface Reply {
  text: string;
  blocks?: (KnownBlock | Block)[];
}

export interface CommandInvocation {
  /** The slash command payload as Slack sent it. */
  payload: SlashCommand;
  /** The command this subcommand belongs to (for help). */
  spec: SlashCommandSpec;
  /** `/incident` or `/deploy`. */
  command: string;
  /** The subcommand as resolved (aliases mapped to names). */
  subcommand: string;
  /** The text after the subcommand, trimmed. */
  args: string;
  client: WebClient;
  services: Services;
  logger: Logger;
  /** Acknowledges the command without an answer (idempotent). Do it before slow work. */
  ack(): Promise<void>;
  /**
   * Acknowledges, then claims this delivery in Postgres: false when it was handled already (a
   * Slack retry, the same delivery on another replica), and the command must do nothing more.
   * Commands that change something or post call it before doing so.
   */
  ackOnce(): Promise<boolean>;
  /** Answers privately: inside the acknowledgement when it has not been sent yet, else via response_url. */
  reply(message: Reply): Promise<void>;
  /** Answers in the channel for everyone, via response_url. */
  replyInChannel(message: Reply): Promise<void>;
}

export interface Subcommand {
  name: string;
  aliases?: readonly string[];
  /** One-line usage: `declare [P0-P3] [title]`. */
  usage: string;
  /** One line on what it does. */
  summary: string;
  run(invocation: CommandInvocation): Promise<void>;
}

export interface SlashCommandSpec {
  command: '/incident' | '/deploy';
  description: string;
  subcommands: readonly Subcommand[];
}
