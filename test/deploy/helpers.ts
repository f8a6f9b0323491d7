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

export async function startKubeSetup(extraYaml: string[] = []): Promise<KubeSetup> {
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
  writeFileSync(configPath, ['services:', serviceYaml, ...extraYaml, ''].join('\n'));
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
