// The web console: the single-page app built into dist/web (`npm run build`), served at `/`.
// It never answers under /v1, so the API always wins, and it never asks for the API token:
// the page itself is public; it asks for the token and sends it to /v1.
import { stat, readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Hono } from 'hono';

/** dist/web at the repository root, wherever the server was started from. */
export const DEFAULT_DASHBOARD_ROOT = resolve(import.meta.dirname, '../../../dist/web');

/** No inline script or style, no foreign origin, no framing: the app needs nothing else. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);

/** Vite names every file under assets/ by its content hash: it can be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Baton</title></head>
<body>
<main>
<h1>Baton's web console is not built</h1>
<p>Run <code>npm run build</code> in the Baton folder, then reload this page.</p>
<p>The API is up meanwhile: <a href="/v1/openapi.json">/v1/openapi.json</a>.</p>
</main>
</body>
</html>
`;

export interface DashboardOptions {
  /** The built app; defaults to dist/web at the repository root. */
  readonly root?: string | undefined;
}

/** Serves the console for every GET outside /v1 (where it steps aside, wherever it is registered). */
export function serveDashboard(app: Hono, options: DashboardOptions = {}): void {
  const root = resolve(options.root ?? DEFAULT_DASHBOARD_ROOT);
  const gzipCache = new Map<string, { key: string; body: Uint8Array }>();
  app.get('*', async (c, next) => {
    const path = c.req.path;
    // Not ours: /v1 routes registered after this one still answer, then the 404 problem.
    if (path === '/v1' || path.startsWith('/v1/')) return next();
    return dashboardResponse(root, path, c.req.raw.headers, gzipCache);
  });
}

async function dashboardResponse(
  root: string,
  path: string,
  request: Headers,
  gzipCache: Map<string, { key: string; body: Uint8Array }>,
): Promise<Response> {
  const index = resolve(root, 'index.html');
  if (!(await isFile(index))) {
    return respond(503, NOT_BUILT, { 'content-type': CONTENT_TYPES['.html']!, 'cache-control': 'no-store' });
  }
  const last = path.slice(path.lastIndexOf('/') + 1);
  // A path without an extension is a route of the app (/services/orders): index.html
  // answers and the app routes. A missing *file* stays a 404, never HTML in its place.
  const file = last.includes('.') ? safeJoin(root, path) : index;
  if (file === undefined) return notFound();
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return notFound();

  const ext = extname(file).toLowerCase();
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'cache-control': path.startsWith('/assets/') && file !== index ? IMMUTABLE : 'no-cache',
    etag,
  };
  if (request.get('if-none-match') === etag) return respond(304, null, headers);

  if (COMPRESSIBLE.has(ext)) headers['vary'] = 'accept-encoding';
  if (COMPRESSIBLE.has(ext) && info.size > 1024 && /\bgzip\b/.test(request.get('accept-encoding') ?? '')) {
    let cached = gzipCache.get(file);
    if (cached?.key !== etag) {
      cached = { key: etag, body: await promisify(gzip)(await readFile(file)) };
      gzipCache.set(file, cached);
    }
    return respond(200, cached.body, { ...headers, 'content-encoding': 'gzip' });
  }
  return respond(200, await readFile(file), headers);
}

/** The file under root a URL path names, or undefined if it would leave root. */
export function safeJoin(root: string, path: string): string | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) return undefined;
  const file = resolve(root, ...segments);
  return file.startsWith(root + sep) ? file : undefined;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

function notFound(): Response {
  return respond(404, 'not found\n', { 'content-type': CONTENT_TYPES['.txt']!, 'cache-control': 'no-cache' });
}

function respond(
  status: number,
  body: string | Uint8Array | null,
  headers: Record<string, string>,
): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, ...headers } });
}
