import type * as k8s from '@kubernetes/client-node';
import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { apiAccess, type AccessOptions } from './access.js';
import { KubernetesApi } from './KubernetesApi.js';
import { KubernetesRegistry } from './KubernetesRegistry.js';

interface KubernetesPluginOptions extends AccessOptions {
  podName: string;
  resyncInterval: number;
  timeout: number;
}

/** `registry: kubernetes`: services announced on the own pod's labels and annotations, as go-micro's plugin does. */
export default definePlugin<KubernetesPluginOptions>({
  name: 'kubernetes',
  kind: 'registry',
  description: "Pod labels and annotations through the Kubernetes API (needs get, list, watch, patch on pods)",
  provides: ['Registry'],
  core: `^${CORE_VERSION}`,
  packages: [
    { name: '@kubernetes/client-node', range: '^2.0.1' },
    { name: 'ws', range: '^8.23.0' },
  ],
  options: {
    auth: { doc: 'auto (kubeconfig, then service account), kubeconfig or in-cluster', format: ['auto', 'kubeconfig', 'in-cluster'], default: 'auto', env: 'MICRO_REGISTRY_KUBERNETES_AUTH' },
    kubeconfig: { doc: 'Path of a kubeconfig file (KUBECONFIG is honoured too)', format: String, default: '', env: 'MICRO_REGISTRY_KUBERNETES_KUBECONFIG' },
    serviceAccountRoot: { doc: 'Prefix of the service account mount', format: String, default: '', env: 'MICRO_REGISTRY_KUBERNETES_SERVICE_ACCOUNT_ROOT' },
    namespace: { doc: "Namespace (the kubeconfig context's or the service account's when empty)", format: String, default: '', env: 'MICRO_REGISTRY_KUBERNETES_NAMESPACE' },
    podName: { doc: 'This pod (HOSTNAME when empty, as the downward API sets it)', format: String, default: '', env: 'MICRO_REGISTRY_KUBERNETES_POD_NAME' },
    resyncInterval: { doc: 'How often watchers relist pods (lapsed TTLs, missed events)', format: 'duration', default: 5000, env: 'MICRO_REGISTRY_KUBERNETES_RESYNC' },
    timeout: { doc: 'Timeout of API requests', format: 'duration', default: 5000, env: 'MICRO_REGISTRY_KUBERNETES_TIMEOUT' },
  },
  create: ({ options, addresses, packages }) =>
    new ContainerModule(({ rebind }) => {
      rebind(Tokens.Registry)
        .toDynamicValue((context) => {
          const { access, namespace } = apiAccess(addresses[0], options, packages['@kubernetes/client-node'] as typeof k8s);
          const api = new KubernetesApi(access, packages.ws as ConstructorParameters<typeof KubernetesApi>[1], options.timeout);
          const podName = options.podName || process.env.HOSTNAME || '';
          return new KubernetesRegistry(api, { namespace, podName, resyncMs: options.resyncInterval }, context.get(Tokens.Logger).child({ component: 'registry', registry: 'kubernetes' }));
        })
        .inSingletonScope();
    }),
});
