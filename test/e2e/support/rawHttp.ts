import { expect } from '@jest/globals';
import { request } from 'node:http';

/**
 * A GET whose path is sent exactly as written. fetch() would normalise `..` and `%2e%2e` before sending, which
 * is precisely what a traversal test must not let the client do.
 */
export function rawGet(base: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port, path, method: 'GET' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Paths that try to leave the dashboard's folder, plainly, percent-encoded, double-encoded and with backslashes. */
export function traversalAttempts(prefix: string): string[] {
  return [
    `${prefix}/../../package.json`,
    `${prefix}/../../../../../../etc/passwd`,
    `${prefix}/%2e%2e/%2e%2e/package.json`,
    `${prefix}/%2E%2E/%2E%2E/package.json`,
    `${prefix}/..%2f..%2fpackage.json`,
    `${prefix}/..%2F..%2F..%2F..%2Fpackage.json`,
    `${prefix}/%2e%2e%2f%2e%2e%2fpackage.json`,
    `${prefix}/js/..%2f..%2f..%2f..%2f..%2f..%2fpackage.json`,
    `${prefix}/%252e%252e/%252e%252e/package.json`,
    `${prefix}/..%5c..%5cpackage.json`,
    `${prefix}/..\\..\\package.json`,
    `${prefix}/%2fetc%2fpasswd`,
    `${prefix}//etc/passwd`,
    `${prefix}/index.html%00.png`,
    `${prefix}/StaticAssets.ts`,
    `${prefix}/../StaticAssets.ts`,
    `${prefix}/..%2fStaticAssets.ts`,
    `${prefix}/%`,
  ];
}

/** Every attempt is an error, and no answer carries a file from outside the folder (package.json, passwd, sources). */
export async function expectTraversalsRefused(base: string, prefix: string): Promise<void> {
  for (const path of traversalAttempts(prefix)) {
    const response = await rawGet(base, path);
    expect({ path, refused: response.status >= 400 }).toEqual({ path, refused: true });
    expect(response.body).not.toMatch(/devDependencies|root:x:|class StaticAssets/);
  }
}
