import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import * as ws from 'ws';
import { Tokens } from '../../src/index.js';
import { silentLogger } from '../../src/logger/PinoLogger.js';
import { runRegistryContract, sampleService } from '../../test/contracts/registryContract.js';
import { TestApps } from '../../test/helpers/apps.js';
import { eventually, uniqueName, within } from '../../test/helpers/eventually.js';
import { ApiProxy } from '../../test/kubernetes/ApiProxy.js';
import { MockPods } from '../../test/kubernetes/pods.js';
import { requireServer } from '../../test/servers/testServers.js';
import { Shop } from '../../test/unit/fixtures.js';
import { apiAccess, type AccessOptions } from './access.js';
import { KubernetesApi, type ApiAccess } from './KubernetesApi.js';
import { KubernetesRegistry } from './KubernetesRegistry.js';

const server = await requireServer('kubernetes');
const apiServer = `http://${server.address}`;
const namespace = uniqueName('tsmicro');
const pods = new MockPods(apiServer, namespace);
const direct: ApiAccess = { server: apiServer, authorise: async () => undefined };

const registryOn = (podName: string, access: ApiAccess = direct, ns = namespace) => new KubernetesRegistry(new KubernetesApi(access, ws, 5000), { namespace: ns, podName, resyncMs: 200 }, silentLogger);
/** kubectl reads the pod raw: the mock serves no API discovery, which `kubectl get pod` would need first. */
const kubectlGetPod = (pod: string) => JSON.parse(execFileSync('kubectl', ['--server', apiServer, 'get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}`], { encoding: 'utf8' }));
const newPod = async (phase = 'Running'): Promise<string> => {
  const name = uniqueName('pod');
  await pods.create(name, phase);
  return name;
};

server.describe('registry-kubernetes on the fabric8 mock API server', () => {
  runRegistryContract('kubernetes (fabric8 mock API server, CRUD mode)', { create: async () => registryOn(await newPod()), ttlMs: 1000, expiryGraceMs: 3000 });

  describe('go-micro compatibility', () => {
    it('writes the labels and the annotation go-micro writes, as kubectl shows them, and removes them on deregister', async () => {
      const pod = await newPod();
      const registry = registryOn(pod);
      const service = sampleService('go.micro.srv.greeter');
      await registry.register(service, { ttlMs: 60_000 });
      const shown = kubectlGetPod(pod);
      expect(shown.metadata.labels).toEqual({ 'micro.mu/type': 'service', 'micro.mu/selector-go.micro.srv.greeter': 'service' });
      const stored = JSON.parse(shown.metadata.annotations['micro.mu/service-go.micro.srv.greeter']);
      expect(Object.keys(stored)).toEqual(['name', 'version', 'metadata', 'endpoints', 'nodes']);
      expect(stored.nodes[0]).toMatchObject({ id: service.nodes[0]!.id, address: service.nodes[0]!.address, metadata: service.nodes[0]!.metadata });
      expect(stored.endpoints).toEqual(service.endpoints);

      await registry.deregister(service);
      const after = kubectlGetPod(pod);
      expect(Object.keys(after.metadata.labels ?? {}).filter((key) => key.startsWith('micro.mu/'))).toEqual([]);
      expect(Object.keys(after.metadata.annotations ?? {}).filter((key) => key.startsWith('micro.mu/'))).toEqual([]);
    });

    it('reads a service a go-micro process put on its pod', async () => {
      const pod = await newPod();
      const goMicro = { name: 'legacy', version: 'latest', metadata: null, endpoints: [], nodes: [{ id: 'legacy-1', address: '10.1.2.3:9090', metadata: { registry: 'kubernetes' } }] };
      await pods.patch(pod, { metadata: { labels: { 'micro.mu/type': 'service', 'micro.mu/selector-legacy': 'service' }, annotations: { 'micro.mu/service-legacy': JSON.stringify(goMicro) } } });
      const [found] = await registryOn(await newPod()).getService('legacy');
      expect(found!.nodes).toEqual([{ id: 'legacy-1', address: '10.1.2.3:9090', metadata: { registry: 'kubernetes' } }]);
    });
  });

  describe('pods', () => {
    it('ignores pods that are not Running or are being deleted', async () => {
      const pod = await newPod();
      const registry = registryOn(pod);
      const service = sampleService(uniqueName('phases'));
      await registry.register(service, { ttlMs: 60_000 });
      expect(await registry.getService(service.name)).toHaveLength(1);
      await pods.patch(pod, { status: { phase: 'Pending' } });
      expect(await registry.getService(service.name)).toEqual([]);
      await pods.patch(pod, { status: { phase: 'Running' } });
      expect(await registry.getService(service.name)).toHaveLength(1);
      await pods.patch(pod, { metadata: { deletionTimestamp: new Date().toISOString() } });
      expect(await registry.getService(service.name)).toEqual([]);
    });

    it('a watch reports a pod that goes away as its nodes deleted', async () => {
      const pod = await newPod();
      const registry = registryOn(pod);
      const service = sampleService(uniqueName('vanish'));
      await registry.register(service, { ttlMs: 60_000 });
      const watcher = await registryOn(await newPod()).watch({ service: service.name });
      try {
        await pods.delete(pod);
        const deleted = await within(watcher.next(), 5000, 'the delete');
        expect(deleted.action).toBe('delete');
        expect(deleted.service.nodes[0]!.id).toBe(service.nodes[0]!.id);
      } finally {
        watcher.stop();
      }
    });

    it('two writers on one pod announcing different services lose nothing: patches touch single keys', async () => {
      const pod = await newPod();
      const [first, second] = [registryOn(pod), registryOn(pod)];
      const names = [...Array(6).keys()].map((i) => uniqueName(`racer${i}`));
      await Promise.all(names.map((name, i) => (i % 2 === 0 ? first : second).register(sampleService(name), { ttlMs: 60_000 })));
      const listed = (await first.listServices()).map((service) => service.name);
      for (const name of names) expect(listed).toContain(name);
    });

    it('says which pod it could not find', async () => {
      await expect(registryOn('no-such-pod').register(sampleService('x'))).rejects.toThrow(`kubernetes registry: pod "no-such-pod" not found in namespace "${namespace}"; is HOSTNAME this pod's name?`);
    });
  });

  describe('authentication', () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const options = (extra: Partial<AccessOptions>): AccessOptions => ({ auth: 'auto', kubeconfig: '', serviceAccountRoot: '', namespace: '', ...extra });

    /** A self-signed certificate for 127.0.0.1, as a cluster's API server has, in a directory removed after the test. */
    const certificate = (): { directory: string; key: string; cert: string } => {
      const directory = mkdtempSync(join(tmpdir(), 'tsmicro-k8s-tls-'));
      cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem')], { stdio: 'ignore' });
      return { directory, key: readFileSync(join(directory, 'key.pem'), 'utf8'), cert: readFileSync(join(directory, 'cert.pem'), 'utf8') };
    };

    it('uses a kubeconfig: its server, CA, user token and context namespace', async () => {
      const tls = certificate();
      const proxy = new ApiProxy(apiServer, tls);
      const port = await proxy.listen();
      cleanups.push(() => proxy.close());
      const kubeconfig = join(tls.directory, 'config');
      writeFileSync(kubeconfig, [
        'apiVersion: v1', 'kind: Config', 'current-context: test',
        'clusters:', '- name: mock', '  cluster:', `    server: https://127.0.0.1:${port}`, `    certificate-authority: ${join(tls.directory, 'cert.pem')}`,
        'users:', '- name: tester', '  user:', '    token: kubeconfig-token',
        'contexts:', '- name: test', '  context:', '    cluster: mock', '    user: tester', `    namespace: ${namespace}`, '',
      ].join('\n'));
      const { access, namespace: chosen } = apiAccess(undefined, options({ auth: 'kubeconfig', kubeconfig }), k8s);
      expect(chosen).toBe(namespace);
      const pod = await newPod();
      const registry = registryOn(pod, access);
      await registry.register(sampleService('via-kubeconfig'), { ttlMs: 60_000 });
      expect(await registry.getService('via-kubeconfig')).toHaveLength(1);
      expect(new Set(proxy.authorizations)).toEqual(new Set(['Bearer kubeconfig-token']));
    });

    it("uses the pod's service account in-cluster: token, CA certificate and namespace files", async () => {
      const tls = certificate();
      const directory = tls.directory;
      const proxy = new ApiProxy(apiServer, tls);
      const port = await proxy.listen();
      cleanups.push(() => proxy.close());
      const account = join(directory, 'var/run/secrets/kubernetes.io/serviceaccount');
      mkdirSync(account, { recursive: true });
      writeFileSync(join(account, 'token'), 'service-account-token');
      writeFileSync(join(account, 'ca.crt'), readFileSync(join(directory, 'cert.pem')));
      writeFileSync(join(account, 'namespace'), namespace);
      const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
      process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
      process.env.KUBERNETES_SERVICE_PORT = String(port);
      cleanups.push(() => {
        process.env.KUBERNETES_SERVICE_HOST = saved.host;
        process.env.KUBERNETES_SERVICE_PORT = saved.port;
        if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
        if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      });
      const { access, namespace: chosen } = apiAccess(undefined, options({ auth: 'in-cluster', serviceAccountRoot: directory }), k8s);
      expect([access.server, chosen]).toEqual([`https://127.0.0.1:${port}`, namespace]);
      const registry = registryOn(await newPod(), access);
      await registry.register(sampleService('in-cluster'), { ttlMs: 60_000 });
      expect(await registry.getService('in-cluster')).toHaveLength(1);
      expect(new Set(proxy.authorizations)).toEqual(new Set(['Bearer service-account-token']));
    });

    it('a 403 names the RBAC verb and resource that are missing', async () => {
      const proxy = new ApiProxy(apiServer);
      const port = await proxy.listen();
      cleanups.push(() => proxy.close());
      proxy.forbid = 'PATCH';
      const registry = registryOn(await newPod(), { server: `http://127.0.0.1:${port}`, authorise: async () => undefined });
      await expect(registry.register(sampleService('refused'))).rejects.toThrow(
        new RegExp(`^kubernetes registry: not allowed to patch pods in namespace "${namespace}" \\(403: pods "x" is forbidden: .*cannot patch resource "pods".*\\); grant the pod's service account the RBAC verb "patch" on "pods"`),
      );
      proxy.forbid = 'GET';
      await expect(registry.getService('refused')).rejects.toThrow(/not allowed to list pods/);
    });
  });

  describe('chosen by config', () => {
    const apps = new TestApps();
    afterAll(() => apps.stopAll());

    it('carries a call between two apps whose pods it patches', async () => {
      const config = (podName: string) => ({ registry: { plugin: 'kubernetes', address: apiServer, options: { namespace, podName, resyncInterval: '500ms' } }, server: { registerTtl: '10s', registerInterval: '2s' } });
      const serverPod = await newPod();
      const shop = await apps.started({ services: [Shop], memory: false, config: config(serverPod) });
      expect(shop.get(Tokens.Registry).name).toBe('kubernetes');
      const client = await apps.started({ memory: false, config: config(await newPod()) });
      await expect(client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 })).resolves.toMatchObject({ accepted: 'tea' });
      expect((await pods.get(serverPod)).metadata.labels).toMatchObject({ 'micro.mu/type': 'service', 'micro.mu/selector-shop': 'service' });
      await shop.stop();
      await eventually(async () => expect(await client.get(Tokens.Registry).getService('shop')).toEqual([]));
    });
  });
});
