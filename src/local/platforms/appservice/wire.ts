import {
  type AppServiceModel,
  type DeploymentRecord,
  type PlanState,
  PRODUCTION,
  type SlotState,
} from './state.ts';

/**
 * ARM wire shapes of the Microsoft.Web resources the fake serves (the subset App Service returns
 * that our adapter and the SDK's deserializers read): sites and slots, config/web, app settings
 * (a StringDictionary), deployments, serverfarms, async operations and the ARM error body.
 */

export interface Coordinates {
  subscriptionId: string;
  resourceGroup: string;
  app: string;
  location: string;
}

export function resourceGroupId(c: Coordinates, resourceGroup = c.resourceGroup): string {
  return `/subscriptions/${c.subscriptionId}/resourceGroups/${resourceGroup}`;
}

export function siteId(c: Coordinates, slot: string): string {
  const base = `${resourceGroupId(c)}/providers/Microsoft.Web/sites/${c.app}`;
  return slot === PRODUCTION ? base : `${base}/slots/${slot}`;
}

export function planId(c: Coordinates, plan: PlanState): string {
  return `${resourceGroupId(c, plan.resourceGroup)}/providers/Microsoft.Web/serverfarms/${plan.name}`;
}

function siteName(c: Coordinates, slot: string): string {
  return slot === PRODUCTION ? c.app : `${c.app}/${slot}`;
}

function hostName(c: Coordinates, slot: string): string {
  return slot === PRODUCTION ? `${c.app}.azurewebsites.net` : `${c.app}-${slot}.azurewebsites.net`;
}

export function siteConfigJson(model: AppServiceModel, slot: SlotState): Record<string, unknown> {
  return {
    numberOfWorkers: model.plan.capacity,
    linuxFxVersion: slot.linuxFxVersion,
    windowsFxVersion: null,
    alwaysOn: true,
    http20Enabled: true,
    minTlsVersion: '1.2',
    ftpsState: 'FtpsOnly',
    healthCheckPath: '/health',
    experiments: {
      rampUpRules: slot.rampUpRules.map((r) => ({
        name: r.name ?? null,
        actionHostName: r.actionHostName,
        reroutePercentage: r.reroutePercentage,
        changeStep: null,
        changeIntervalInMinutes: null,
        minReroutePercentage: null,
        maxReroutePercentage: null,
        changeDecisionCallbackUrl: null,
      })),
    },
  };
}

export function siteJson(model: AppServiceModel, c: Coordinates, slot: SlotState): Record<string, unknown> {
  return {
    id: siteId(c, slot.slot),
    name: siteName(c, slot.slot),
    type: slot.slot === PRODUCTION ? 'Microsoft.Web/sites' : 'Microsoft.Web/sites/slots',
    kind: 'app,linux,container',
    location: c.location,
    tags: {},
    properties: {
      name: siteName(c, slot.slot),
      state: slot.state,
      hostNames: [hostName(c, slot.slot)],
      enabledHostNames: [
        hostName(c, slot.slot),
        hostName(c, slot.slot).replace('.azurewebsites', '.scm.azurewebsites'),
      ],
      defaultHostName: hostName(c, slot.slot),
      usageState: 'Normal',
      enabled: true,
      availabilityState: model.availabilityState(slot),
      serverFarmId: planId(c, model.plan),
      reserved: true,
      isXenon: false,
      hyperV: false,
      lastModifiedTimeUtc: slot.warmUntil.toISOString(),
      siteConfig: siteConfigJson(model, slot),
      slotSwapStatus: slot.swapStatus
        ? {
            timestampUtc: slot.swapStatus.timestampUtc.toISOString(),
            sourceSlotName: slot.swapStatus.sourceSlotName,
            destinationSlotName: slot.swapStatus.destinationSlotName,
          }
        : null,
      httpsOnly: true,
      resourceGroup: c.resourceGroup,
      containerSize: 0,
      clientAffinityEnabled: false,
    },
  };
}

export function webConfigJson(
  model: AppServiceModel,
  c: Coordinates,
  slot: SlotState,
): Record<string, unknown> {
  return {
    id: `${siteId(c, slot.slot)}/config/web`,
    name: siteName(c, slot.slot),
    type: 'Microsoft.Web/sites/config',
    location: c.location,
    properties: siteConfigJson(model, slot),
  };
}

export function appSettingsJson(c: Coordinates, slot: SlotState): Record<string, unknown> {
  return {
    id: `${siteId(c, slot.slot)}/config/appsettings`,
    name: 'appsettings',
    type: 'Microsoft.Web/sites/config',
    location: c.location,
    properties: { ...slot.appSettings },
  };
}

/**
 * The site's SlotConfigNamesResource (config/slotConfigNames): one per app, valid for all its slots;
 * an empty list reads back as null, as ARM answers.
 */
export function slotConfigNamesJson(model: AppServiceModel, c: Coordinates): Record<string, unknown> {
  const list = (names: readonly string[]) => (names.length > 0 ? [...names] : null);
  return {
    id: `${siteId(c, PRODUCTION)}/config/slotConfigNames`,
    name: c.app,
    type: 'Microsoft.Web/sites',
    properties: {
      appSettingNames: list([...model.stickySettings]),
      connectionStringNames: list(model.stickyConnectionStrings),
      azureStorageConfigNames: list(model.stickyStorageConfigs),
    },
  };
}

export function deploymentJson(
  c: Coordinates,
  slot: SlotState,
  d: DeploymentRecord,
): Record<string, unknown> {
  return {
    id: `${siteId(c, slot.slot)}/deployments/${d.id}`,
    name: d.id,
    type: 'Microsoft.Web/sites/deployments',
    properties: {
      status: d.status,
      message: d.message,
      author: d.author,
      deployer: d.deployer,
      author_email: d.authorEmail ?? null,
      start_time: d.startTime.toISOString(),
      end_time: d.endTime?.toISOString() ?? null,
      active: d.active,
      details: d.details,
    },
  };
}

export function planJson(model: AppServiceModel, c: Coordinates): Record<string, unknown> {
  const p = model.plan;
  return {
    id: planId(c, p),
    name: p.name,
    type: 'Microsoft.Web/serverfarms',
    kind: 'linux',
    location: c.location,
    tags: {},
    sku: {
      name: p.skuName,
      tier: p.tier,
      size: p.skuName,
      family: p.skuName.slice(0, 1),
      capacity: p.capacity,
    },
    properties: {
      status: 'Ready',
      maximumNumberOfWorkers: p.maximumNumberOfWorkers,
      numberOfWorkers: p.capacity,
      geoRegion: c.location,
      numberOfSites: 1,
      reserved: true,
      perSiteScaling: false,
      elasticScaleEnabled: false,
      isSpot: false,
      zoneRedundant: false,
      resourceGroup: p.resourceGroup,
      provisioningState: 'Succeeded',
    },
  };
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** The ARM error body App Service answers for an HTTP status. */
export function errorForStatus(
  status: number,
  c: Coordinates,
  action: string,
): { code: string; message: string } {
  switch (status) {
    case 401:
      return { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' };
    case 403:
      return {
        code: 'AuthorizationFailed',
        message: `The client '00000000-0000-0000-0000-000000000000' with object id '00000000-0000-0000-0000-000000000000' does not have authorization to perform action '${action}' over scope '${siteId(c, PRODUCTION)}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      };
    case 404:
      return {
        code: 'ResourceNotFound',
        message: `The Resource 'Microsoft.Web/sites/${c.app}' under resource group '${c.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      };
    case 409:
      return {
        code: 'Conflict',
        message: 'Cannot modify this site because another operation is in progress.',
      };
    case 429:
      return {
        code: 'TooManyRequests',
        message: 'The request is being throttled as the limit has been reached for operation type.',
      };
    case 503:
      return { code: 'ServiceUnavailable', message: 'The service is unavailable, please try again later.' };
    case 504:
      return {
        code: 'GatewayTimeout',
        message: 'The gateway did not receive a response within the specified time period.',
      };
    default:
      return status >= 500
        ? {
            code: 'InternalServerError',
            message: 'An unexpected error occured while processing the request.',
          }
        : { code: 'BadRequest', message: 'The request is invalid.' };
  }
}
