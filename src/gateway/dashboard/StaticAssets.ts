import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MicroError } from '../../errors.js';
import type { GatewayExchange } from '../GatewayPlugin.js';

const ERROR_ID = 'tsmicro.dashboard';

/** The only kinds of file served; anything else in the folder (a stray .ts, an editor backup) stays private. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The page may only load what this server serves and talk to this server: with every value rendered as text,
 * this is the second line against markup smuggled in through service names, metadata or replies.
 */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * Where the page's files are. tsc does not copy them into dist/, so compiled code running from
 * dist/src/gateway/dashboard/ falls back to the repository's src/gateway/dashboard/public/.
 */
export function publicDirectoryCandidates(moduleDirectory = dirname(fileURLToPath(import.meta.url))): string[] {
  return [join(moduleDirectory, 'public'), resolve(moduleDirectory, '..', '..', '..', '..', 'src', 'gateway', 'dashboard', 'public')];
}

/** The first of `candidates` that holds the page. */
export function locatePublicDirectory(candidates: readonly string[] = publicDirectoryCandidates()): string | undefined {
  return candidates.find((directory) => existsSync(join(directory, 'index.html')));
}

/**
 * The page's files, read once into memory. A request names a file by its path relative to the folder and is
 * answered only when that exact name was found at load time: no path built from the URL ever reaches the file
 * system, so `..`, encoded slashes or symlinks cannot lead outside the folder.
 */
export class StaticAssets {
  readonly #assets = new Map<string, Asset>();

  constructor(readonly directory: string) {
    this.#load(directory, '');
  }

  get names(): string[] {
    return [...this.#assets.keys()].sort();
  }

  /** Answers GET or HEAD for `urlPath` (`/js/main.js`, still percent-encoded as it came in the URL). */
  serve({ request, response }: GatewayExchange, urlPath: string): void {
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      throw new MicroError(ERROR_ID, 405, `${method} is not allowed on the dashboard's files`);
    }
    let name: string;
    try {
      name = decodeURIComponent(urlPath).replace(/^\/+/, '');
    } catch {
      throw MicroError.badRequest(ERROR_ID, 'malformed percent-encoding in the path');
    }
    const asset = this.#assets.get(name);
    if (!asset) throw MicroError.notFound(ERROR_ID, 'no such dashboard file');
    const headers: Record<string, string> = {
      'content-type': asset.contentType,
      etag: asset.etag,
      // Revalidated on every load (a cheap 304), so a new version of the page shows at once after an upgrade.
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (asset.contentType.startsWith('text/html')) Object.assign(headers, { 'content-security-policy': PAGE_POLICY, 'x-frame-options': 'DENY' });
    if (matchesEtag(request.headers['if-none-match'], asset.etag)) {
      response.writeHead(304, headers);
      return void response.end();
    }
    response.writeHead(200, { ...headers, 'content-length': String(asset.body.length) });
    response.end(method === 'HEAD' ? undefined : asset.body);
  }

  #load(directory: string, prefix: string): void {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      // Dot files are never part of the page; symbolic links could point anywhere, so they are not followed.
      if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) this.#load(join(directory, entry.name), `${name}/`);
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (!entry.isFile() || !contentType) continue;
      const body = readFileSync(join(directory, entry.name));
      this.#assets.set(name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
    }
  }
}

/** `If-None-Match` may list several tags, weak ones included (`W/"…"`), or be `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
