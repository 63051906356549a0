/** A condition on one header or query parameter: an exact value, present (any value), or absent. */
export interface FieldCondition {
  /** Header names are kept lower-case; query parameter names as written. */
  readonly name: string;
  readonly expect: { readonly kind: 'equals'; readonly value: string } | { readonly kind: 'present' } | { readonly kind: 'absent' };
}

/** The host a rule matches: exact (`api.example.com`, with or without a port) or a `*.example.com` suffix. */
export interface HostCondition {
  /** Lower-case; the leading `*` removed for wildcards (`.example.com`). */
  readonly pattern: string;
  readonly wildcard: boolean;
  /** The pattern names a port, so the request's port must agree; otherwise the port is ignored. */
  readonly withPort: boolean;
}

export interface RouteConditions {
  /** Upper-case method names; undefined matches any method. */
  readonly methods?: ReadonlySet<string>;
  readonly host?: HostCondition;
  /** Path prefix, matched on whole segments (`/api` matches `/api` and `/api/x`, not `/apix`). */
  readonly path: string;
  readonly headers: readonly FieldCondition[];
  readonly query: readonly FieldCondition[];
}

export interface ProxyAction {
  readonly kind: 'proxy';
  /** Where requests go: scheme, host, port and a base path (never a query). */
  readonly url: URL;
  readonly stripPrefix: boolean;
  /** Longest the upstream connection may stay silent (connecting, before and while answering), in ms. */
  readonly timeoutMs: number;
  /** Send the client's Host header instead of the upstream's. */
  readonly preserveHost: boolean;
  /** Accept any TLS certificate from an https upstream (self-signed test servers). */
  readonly insecure: boolean;
  /** Headers set on the forwarded request, replacing the client's. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface ResponseAction {
  readonly kind: 'response';
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

export interface Route {
  /** Position in the file's `routes` list, from 0. */
  readonly index: number;
  /** For logs and errors: `routes[2] ("orders")`. */
  readonly label: string;
  readonly when: RouteConditions;
  /** Higher wins. */
  readonly priority: number;
  /** Relative share of traffic among matching rules of the same priority; 0 turns the rule off. */
  readonly weight: number;
  readonly action: ProxyAction | ResponseAction;
}
