/**
 * The CloudFormation custom resource protocol as the bootstrap Lambda speaks it: the request it
 * gets, the response it PUTs to the pre-signed ResponseURL, and its physical ids.
 */

/** The physical id of the one bootstrap resource of a stack. */
export function physicalResourceId(cluster: string): string {
  return `irsa-anywhere-bootstrap-${cluster}`;
}

/** The physical id answered when the configuration is unusable (so no cluster name is known). */
export const UNCONFIGURED_PHYSICAL_ID = 'irsa-anywhere-bootstrap-unconfigured';

/** The fields of a CloudFormation custom resource request this handler uses. */
export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties?: Record<string, unknown>;
}

/** The body PUT to the ResponseURL. */
export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  NoEcho: false;
  Data: Record<string, string>;
}

/** True for the fields this handler needs of a custom resource request. */
export function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    (e.RequestType === 'Create' || e.RequestType === 'Update' || e.RequestType === 'Delete') &&
    typeof e.ResponseURL === 'string' &&
    typeof e.StackId === 'string' &&
    typeof e.RequestId === 'string' &&
    typeof e.LogicalResourceId === 'string'
  );
}
