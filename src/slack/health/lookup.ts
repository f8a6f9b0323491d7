/** Finds the service a /deploy command names, turning the engine's errors into answers for the user. */
import type { ServiceConfig } from '../../config/schema.ts';
import { AmbiguousServiceError, NoHealthChecksError, UnknownServiceError } from '../../health/errors.ts';
import type { HealthService } from '../../health/service.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';

/** The configured service with health checks; throws UserInputError with what to type instead. */
export function findCheckableService(
  health: HealthService,
  name: string,
  environment: string | undefined,
): ServiceConfig {
  const service = findConfiguredService(health, name, environment, 'health');
  if (service.healthChecks.length === 0) {
    const noChecks = new NoHealthChecksError(service.name, service.environment);
    throw new UserInputError(noChecks.message);
  }
  return service;
}

/** The configured service `/deploy <subcommand>` names; throws UserInputError with what to type instead. */
export function findConfiguredService(
  health: HealthService,
  name: string,
  environment: string | undefined,
  subcommand: string,
): ServiceConfig {
  try {
    return health.findService(name, environment);
  } catch (error) {
    if (error instanceof UnknownServiceError) {
      const command = (s: string): string =>
        error.environment === undefined
          ? `\`/deploy ${subcommand} ${s}\``
          : `\`/deploy ${subcommand} ${escapeMrkdwn(error.service)} ${s}\``;
      const suggestion =
        error.suggestions.length > 0 ? `Did you mean ${error.suggestions.map(command).join(' or ')}? ` : '';
      const what =
        error.environment === undefined ? 'Known services' : `Environments of ${escapeMrkdwn(error.service)}`;
      const list =
        error.known.length > 0
          ? `${what}: ${error.known.join(', ')}.`
          : 'No services are configured in runbook.yml.';
      // What the user typed, quoted: escaped so that it shows as typed.
      const message =
        error.environment === undefined
          ? `There is no service "${escapeMrkdwn(error.service)}".`
          : `Service ${escapeMrkdwn(error.service)} has no environment "${escapeMrkdwn(error.environment)}".`;
      throw new UserInputError(message, `${suggestion}${list}`);
    }
    if (error instanceof AmbiguousServiceError) {
      throw new UserInputError(
        `${error.service} runs in ${error.environments.join(', ')}: name the environment.`,
        error.environments.map((env) => `\`/deploy ${subcommand} ${error.service} ${env}\``).join(' or '),
      );
    }
    throw error;
  }
}
