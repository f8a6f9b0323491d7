/** Typed errors of the health service, with messages a responder can act on. */

export class HealthServiceError extends Error {
  override name = 'HealthServiceError';
}

/** No configured service has that name (or that name has no such environment). */
export class UnknownServiceError extends HealthServiceError {
  override name = 'UnknownServiceError';
  readonly service: string;
  readonly environment: string | undefined;
  /** Known service names, or the known environments of the service when only the environment is wrong. */
  readonly known: string[];
  readonly suggestions: string[];
  constructor(
    service: string,
    environment: string | undefined,
    known: string[],
    suggestions: string[],
    message: string,
  ) {
    super(message);
    this.service = service;
    this.environment = environment;
    this.known = known;
    this.suggestions = suggestions;
  }
}

/** The service exists in several environments and none was named. */
export class AmbiguousServiceError extends HealthServiceError {
  override name = 'AmbiguousServiceError';
  readonly service: string;
  readonly environments: string[];
  constructor(service: string, environments: string[]) {
    super(`service ${service} runs in ${environments.join(', ')}: name the environment to check`);
    this.service = service;
    this.environments = environments;
  }
}

/** The service has no `healthChecks` in the config. */
export class NoHealthChecksError extends HealthServiceError {
  override name = 'NoHealthChecksError';
  readonly service: string;
  readonly environment: string;
  constructor(service: string, environment: string) {
    super(`service ${service} (${environment}) has no health checks: add healthChecks to it in runbook.yml`);
    this.service = service;
    this.environment = environment;
  }
}

/** A watch of this service already reports there (one watch of a service per scope). */
export class WatchAlreadyRunningError extends HealthServiceError {
  override name = 'WatchAlreadyRunningError';
  readonly service: string;
  readonly environment: string;
  constructor(service: string, environment: string) {
    super(`service ${service} (${environment}) is already being watched there`);
    this.service = service;
    this.environment = environment;
  }
}

/** The process is shutting down: no new watch starts. */
export class WatchesStoppingError extends HealthServiceError {
  override name = 'WatchesStoppingError';
  constructor() {
    super('health watches are stopping (the process is shutting down)');
  }
}

/** A watch asked to check more often than the minimum allows. */
export class WatchTooFrequentError extends HealthServiceError {
  override name = 'WatchTooFrequentError';
  readonly intervalMs: number;
  readonly minimumMs: number;
  constructor(intervalMs: number, minimumMs: number) {
    super(`a health watch checks at most every ${minimumMs} ms, not every ${intervalMs} ms`);
    this.intervalMs = intervalMs;
    this.minimumMs = minimumMs;
  }
}
