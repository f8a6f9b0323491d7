import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesPlatformConfig } from '../../config/schema.ts';
import { redactText } from '../../logger.ts';
import { PlatformError } from '../errors.ts';

/**
 * Which cluster and identity the adapter talks to:
 *   - a given KubeConfig (tests build one with `loadFromOptions`), else
 *   - `platform.context` set: that context of the kubeconfig ($KUBECONFIG or ~/.kube/config), else
 *   - inside a pod (KUBERNETES_SERVICE_HOST set): the in-cluster service account, else
 *   - the kubeconfig's current context.
 * `platform.endpoint` then replaces the API server URL of the chosen cluster (an emulator, a test
 * fake, a tunnel). Plain http carries no TLS, so such an endpoint is marked skipTLSVerify, which the
 * client requires before it speaks http.
 */

function fail(message: string, cause?: unknown): PlatformError {
  return new PlatformError('invalid', message, { cause });
}

function fromEnvironment(context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (context === undefined && process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (error) {
    throw fail(`cannot load the Kubernetes configuration: ${redactText((error as Error).message)}`, error);
  }
  return kc;
}

export function loadKubeConfig(platform: KubernetesPlatformConfig, given?: KubeConfig): KubeConfig {
  const base = given ?? fromEnvironment(platform.context);
  if (platform.context !== undefined) {
    if (!base.getContextObject(platform.context)) {
      const known = base.getContexts().map((c) => c.name);
      throw fail(
        `the kubeconfig has no context "${platform.context}" (contexts: ${known.length > 0 ? known.join(', ') : 'none'}): fix platform.context`,
      );
    }
  }
  const contextName = platform.context ?? base.getCurrentContext();
  if (!contextName) throw fail('the kubeconfig has no current context: set one, or set platform.context');
  const context = base.getContextObject(contextName);
  const cluster = context ? base.getCluster(context.cluster) : null;
  if (!context || !cluster) {
    throw fail(
      `the kubeconfig context "${contextName}" names no cluster: fix the kubeconfig or platform.context`,
    );
  }
  const endpoint = platform.endpoint;
  // Unchanged: keep the caller's instance (and any authenticators added to it).
  if (endpoint === undefined && contextName === base.getCurrentContext()) return base;
  const clusters = base.getClusters().map((c) => {
    if (c.name !== cluster.name || endpoint === undefined) return c;
    return {
      ...c,
      server: endpoint.replace(/\/+$/, ''),
      skipTLSVerify: c.skipTLSVerify || endpoint.startsWith('http:'),
    };
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters,
    users: base.getUsers(),
    contexts: base.getContexts(),
    currentContext: contextName,
  });
  return kc;
}

/** The API server URL requests go to, for messages. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? 'unknown server';
}
