import { RevisionsClient, ServicesClient } from '@google-cloud/run';
import { PlatformError } from '../errors.ts';

export type CloudRunClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;
/** An auth client the SDK accepts (e.g. google-auth-library's OAuth2Client with a preset token). */
export type CloudRunAuthClient = CloudRunClientOptions['authClient'];

export interface CloudRunClients {
  services: ServicesClient;
  revisions: RevisionsClient;
}

/**
 * The SDK's REST transport (`fallback: true`) is used everywhere, so production speaks exactly the
 * wire format the tests drive. Without an endpoint override the SDK talks to run.googleapis.com;
 * with one (an emulator or the in-process fake), to that host and port over its protocol. Without
 * an auth client the SDK uses Application Default Credentials.
 */
export function createCloudRunClients(
  endpoint: string | undefined,
  authClient?: CloudRunAuthClient,
): CloudRunClients {
  const options: CloudRunClientOptions = { fallback: true };
  if (authClient) options.authClient = authClient;
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new PlatformError('invalid', `platform.endpoint ${endpoint} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PlatformError('invalid', `platform.endpoint ${endpoint} must be an http or https URL`);
    }
    options.apiEndpoint = url.hostname;
    options.port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
    options.protocol = url.protocol.slice(0, -1);
  }
  return { services: new ServicesClient(options), revisions: new RevisionsClient(options) };
}
