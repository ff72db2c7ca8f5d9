/**
 * The web console at `/`: console/index.html plus one JS and one CSS file, which esbuild bundles from
 * console/src in memory when the server starts (~0.1 s). Nothing built is committed or written to disk, so
 * the console served is always the source checked out. Only `/` and the asset paths below are static;
 * every other path keeps the API's JSON envelope.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FastifyPluginAsync } from 'fastify';

const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));
/** Where index.html loads the bundle from. */
const ASSET_PREFIX = '/console/';

/** The browser may load scripts, styles and fetch only from this server; images also as data: URLs. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

interface Asset {
  contentType: string;
  body: string;
}

async function bundleConsole(): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: [`${CONSOLE_DIR}src/main.tsx`],
    tsconfig: `${CONSOLE_DIR}tsconfig.json`,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'eof',
    write: false,
    outdir: `${CONSOLE_DIR}out`,
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(`${ASSET_PREFIX}${name}`, { contentType, body: file.text });
  }
  return assets;
}

export const consolePlugin: FastifyPluginAsync = async (app) => {
  const [page, assets] = await Promise.all([readFile(`${CONSOLE_DIR}index.html`, 'utf8'), bundleConsole()]);

  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .send(page),
  );
  for (const [path, asset] of assets) {
    app.get(path, async (_request, reply) => reply.type(asset.contentType).header('cache-control', 'no-cache').send(asset.body));
  }
};
