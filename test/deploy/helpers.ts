/** A Kubernetes fake with $KUBECONFIG pointing at it, and a runbook.yml naming it (for the deploy tests). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KubernetesFake, startKubernetesFake } from '../../src/local/platforms/kubernetes/server.ts';

export interface KubeSetup {
  fake: KubernetesFake;
  dir: string;
  configPath: string;
  /** The service's YAML lines (for a runbook.yml). */
  serviceYaml: string;
  close(): Promise<void>;
}

/**
 * The deploy tests that are not about change control turn it off explicitly (the defaults need 2
 * approvals and a deploy window in production): no approvals, and (in `deploy:`) no windows.
 */
export const NO_APPROVALS_YAML = 'approvals: { production: { required: 0, fromGroups: [] } }';
export const NO_WINDOWS_YAML = 'windows: { production: [] }';
export const NO_CHANGE_CONTROL = {
  approvals: { production: { required: 0, fromGroups: [] } },
  windows: { production: [] },
} as const;

/**
 * `extraYaml`: more top-level lines. Unless told `changeControl: true`, approvals and windows are
 * turned off (a `deploy:` line of the caller must then say `windows: { production: [] }` itself).
 */
export async function startKubeSetup(
  extraYaml: string[] = [],
  options: { changeControl?: boolean } = {},
): Promise<KubeSetup> {
  const lines = [...extraYaml];
  if (!options.changeControl) {
    if (!lines.some((l) => l.startsWith('approvals:'))) lines.push(NO_APPROVALS_YAML);
    if (!lines.some((l) => l.startsWith('deploy:'))) lines.push(`deploy: { ${NO_WINDOWS_YAML} }`);
  }
  const fake = await startKubernetesFake({
    namespace: 'prod',
    deployment: 'barq-api',
    container: 'api',
    token: 'k8s-token',
  });
  await fake.deploy('registry.example.com/app:v1');
  await fake.deploy('registry.example.com/app:v2');
  const dir = mkdtempSync(join(tmpdir(), 'deploy-'));
  writeFileSync(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: prod, cluster: { server: "https://kubernetes.invalid:6443" } }]',
      'users: [{ name: bot, user: { token: k8s-token } }]',
      'contexts: [{ name: prod, context: { cluster: prod, user: bot, namespace: prod } }]',
      'current-context: prod',
      '',
    ].join('\n'),
  );
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = join(dir, 'kubeconfig');
  const serviceYaml = [
    '  - name: barq-api',
    `    platform: { kind: kubernetes, namespace: prod, deployment: barq-api, container: api, endpoint: "${fake.url}" }`,
    '    scaling: { min: 1, max: 5 }',
  ].join('\n');
  const configPath = join(dir, 'runbook.yml');
  writeFileSync(configPath, ['services:', serviceYaml, ...lines, ''].join('\n'));
  return {
    fake,
    dir,
    configPath,
    serviceYaml,
    async close() {
      await fake.close();
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** PATCHes of the Deployment the fake received (what changes it). */
export function patchCount(fake: KubernetesFake): number {
  return fake.requests.filter((r) => r.method === 'PATCH' || r.method === 'PUT').length;
}
