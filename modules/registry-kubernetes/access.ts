import type { RequestOptions } from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import type { ApiAccess } from './KubernetesApi.js';

export interface AccessOptions {
  /** `auto`: KUBECONFIG, ~/.kube/config, then the pod's service account; or force one of them. */
  auth: 'auto' | 'kubeconfig' | 'in-cluster';
  kubeconfig: string;
  /** Prepended to /var/run/secrets/kubernetes.io/serviceaccount, for unusual mounts (and tests). */
  serviceAccountRoot: string;
  namespace: string;
}

/**
 * How the registry reaches the API server. With registry.address set it talks plain HTTP to that address, as
 * go-micro did; otherwise credentials come from a kubeconfig or from the pod's service account, through the
 * official client's KubeConfig, which knows every way a kubeconfig can authenticate.
 */
export function apiAccess(address: string | undefined, options: AccessOptions, client: typeof k8s): { access: ApiAccess; namespace: string } {
  if (address) {
    const server = /^[a-z]+:\/\//.test(address) ? address : `http://${address}`;
    return { access: { server, authorise: async () => undefined }, namespace: options.namespace || 'default' };
  }
  const config = new client.KubeConfig();
  if (options.auth === 'in-cluster') config.loadFromCluster(options.serviceAccountRoot);
  else if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
  else if (options.auth === 'kubeconfig') config.loadFromDefault({}, false, undefined);
  else config.loadFromDefault();
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('kubernetes registry: no cluster found in the kubeconfig or service account; set registry.address or KUBECONFIG');
  const context = config.getContextObject(config.getCurrentContext());
  return {
    access: { server: cluster.server, authorise: (request: RequestOptions) => config.applyToHTTPSOptions(request) },
    namespace: options.namespace || context?.namespace || 'default',
  };
}
