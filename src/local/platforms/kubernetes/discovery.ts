import type { JsonObject } from './json.ts';

/**
 * The discovery documents kubectl reads before it acts (legacy, unaggregated form): /version, /api,
 * /api/v1, /apis, /apis/apps/v1 (with the scale subresource of group autoscaling, version v1, which
 * the scale client looks up), /apis/autoscaling/v1.
 */

export const VERSION_INFO: JsonObject = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T00:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

const group = (name: string, version: string): JsonObject => ({
  name,
  versions: [{ groupVersion: `${name}/${version}`, version }],
  preferredVersion: { groupVersion: `${name}/${version}`, version },
});

export const API_GROUP_LIST: JsonObject = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [group('apps', 'v1'), group('autoscaling', 'v1')],
};

export function apiGroup(name: 'apps' | 'autoscaling'): JsonObject {
  return { kind: 'APIGroup', apiVersion: 'v1', ...group(name, 'v1') };
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const CORE_V1_RESOURCES: JsonObject = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ns'],
    },
  ],
};

export const APPS_V1_RESOURCES: JsonObject = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'deployments',
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      verbs: ALL_VERBS,
      shortNames: ['deploy'],
      categories: ['all'],
    },
    {
      name: 'deployments/scale',
      singularName: '',
      namespaced: true,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    },
    {
      name: 'deployments/status',
      singularName: '',
      namespaced: true,
      kind: 'Deployment',
      verbs: ['get', 'patch', 'update'],
    },
    {
      name: 'replicasets',
      singularName: 'replicaset',
      namespaced: true,
      kind: 'ReplicaSet',
      verbs: ALL_VERBS,
      shortNames: ['rs'],
      categories: ['all'],
    },
    {
      name: 'replicasets/status',
      singularName: '',
      namespaced: true,
      kind: 'ReplicaSet',
      verbs: ['get', 'patch', 'update'],
    },
  ],
};

export const AUTOSCALING_V1_RESOURCES: JsonObject = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'autoscaling/v1',
  resources: [],
};
