export * from './client.ts';
export * from './link.ts';
export * from './payloads.ts';
export * from './server.ts';
export * from './signing.ts';
export type {
  ResponseUrlContext,
  SimBot,
  SimChannel,
  SimChannelInput,
  SimEphemeral,
  SimMessage,
  SimTeam,
  SimUser,
  SimUsergroup,
  SimUserInput,
  SimView,
} from './workspace.ts';
export {
  DEFAULT_BOT,
  DEFAULT_CHANNELS,
  DEFAULT_TEAM,
  DEFAULT_USERGROUPS,
  DEFAULT_USERS,
} from './workspace.ts';
