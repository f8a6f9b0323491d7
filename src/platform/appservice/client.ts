import { WebSiteManagementClient, type WebSiteManagementClientOptionalParams } from '@azure/arm-appservice';
import type { TokenCredential } from '@azure/identity';
import type { AppServicePlatformConfig } from '../../config/schema.ts';
import { PlatformError } from '../errors.ts';

export type { TokenCredential, WebSiteManagementClientOptionalParams };

export interface WebSiteClientOptions {
  /** Default: DefaultAzureCredential (managed identity, workload identity, AZURE_* env, az login). */
  credential?: TokenCredential;
  /**
   * Extra SDK client options, e.g. `{ agent: new https.Agent({ ca }) }` to trust a test server's
   * certificate. `endpoint` comes from the service's `platform.endpoint`.
   */
  clientOptions?: WebSiteManagementClientOptionalParams;
  /** Longest wait for a token from the credential (managed identity, az login, …); default 2 s. */
  credentialTimeoutMs?: number;
}

/** What a credential that did not answer in time fails with: as an unavailable one does. */
class CredentialTimeoutError extends Error {
  override name = 'CredentialUnavailableError';
}

/**
 * The credential, bounded: DefaultAzureCredential probes managed identity endpoints and shells out
 * to `az`, which can take long or hang off Azure. A token not had within timeoutMs fails as an
 * unavailable credential does (the adapter words it as authentication); a late answer is dropped.
 */
function withDeadline(credential: TokenCredential, timeoutMs: number): TokenCredential {
  return {
    getToken(scopes, options) {
      const asked = credential.getToken(scopes, options);
      asked.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new CredentialTimeoutError(`no token within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      });
      return Promise.race([asked, deadline]).finally(() => clearTimeout(timer));
    },
  };
}

/**
 * The official `WebSiteManagementClient`, pointed at `platform.endpoint` when set. The SDK's own
 * retry policy is switched off: retries belong to withRetry (bounded, with jitter) around each call,
 * so a transient error is never retried twice over.
 */
export async function createWebSiteClient(
  platform: AppServicePlatformConfig,
  serviceName: string,
  options: WebSiteClientOptions,
): Promise<WebSiteManagementClient> {
  const credential = withDeadline(
    options.credential ?? (await defaultCredential()),
    options.credentialTimeoutMs ?? 2_000,
  );
  return new WebSiteManagementClient(credential, platform.subscriptionId, {
    ...options.clientOptions,
    ...(platform.endpoint ? { endpoint: platform.endpoint.replace(/\/+$/, '') } : {}),
    retryOptions: { maxRetries: 0, ...options.clientOptions?.retryOptions },
    userAgentOptions: { userAgentPrefix: `runbook-bot/${serviceName}` },
  });
}

/** Loaded only when no credential is injected, so tests never load MSAL. */
async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** The SDK refuses to send a bearer token over plain http: say so when the config is read, not at first use. */
export function checkEndpoint(platform: AppServicePlatformConfig, serviceName: string): void {
  if (platform.endpoint && !platform.endpoint.toLowerCase().startsWith('https://')) {
    throw new PlatformError(
      'invalid',
      `platform.endpoint of service ${serviceName} must be an https URL (got ${new URL(platform.endpoint).origin}): the Azure SDK never sends the bot's token over plain http`,
    );
  }
}
