import { RevisionsClient, ServicesClient } from '@google-cloud/run';
import { PlatformError } from '../errors.ts';

export type CloudRunClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;
/** An auth client the SDK accepts (e.g. google-auth-library's OAuth2Client with a preset token). */
export type CloudRunAuthClient = CloudRunClientOptions['authClient'];

/** What hands out the access token every request carries: the given auth client, or ADC. */
export interface TokenSource {
  getAccessToken(): Promise<unknown>;
}

export interface CloudRunClients {
  services: ServicesClient;
  revisions: RevisionsClient;
  /** The one credential both clients use; the adapter gets a token from it before every call. */
  auth: TokenSource;
}

/**
 * The SDK's REST transport (`fallback: true`) is used everywhere, so production speaks exactly the
 * wire format the tests drive. Without an endpoint override the SDK talks to run.googleapis.com;
 * with one (an emulator or the in-process fake), to that host and port over its protocol. Without
 * an auth client the SDK uses Application Default Credentials: the GoogleAuth the services client
 * makes (with its scopes) is shared with the revisions client, so both look credentials up once.
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
  const services = new ServicesClient(options);
  if (authClient) return { services, revisions: new RevisionsClient(options), auth: authClient };
  const revisions = new RevisionsClient({ ...options, auth: services.auth });
  return { services, revisions, auth: services.auth };
}
