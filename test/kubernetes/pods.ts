/** Pods in the mock API server, standing in for the pods a cluster would run the services in. */
export class MockPods {
  constructor(
    readonly server: string,
    readonly namespace: string,
  ) {}

  #url(name = ''): string {
    return `${this.server}/api/v1/namespaces/${this.namespace}/pods${name ? `/${name}` : ''}`;
  }

  async create(name: string, phase = 'Running'): Promise<void> {
    const response = await fetch(this.#url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: this.namespace }, spec: { containers: [{ name: 'app', image: 'app:1' }] }, status: { phase } }),
    });
    if (response.status !== 201) throw new Error(`creating pod ${name}: ${response.status} ${await response.text()}`);
  }

  async patch(name: string, body: object): Promise<void> {
    const response = await fetch(this.#url(name), { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`patching pod ${name}: ${response.status} ${await response.text()}`);
  }

  async delete(name: string): Promise<void> {
    await fetch(this.#url(name), { method: 'DELETE' });
  }

  async get(name: string): Promise<{ metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }> {
    return (await fetch(this.#url(name))).json() as Promise<{ metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }>;
  }
}
