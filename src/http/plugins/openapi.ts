/**
 * API documentation: the generated OpenAPI document at `/openapi.json` and Swagger UI at `/docs`, its assets
 * served from the package (@fastify/swagger-ui bundles swagger-ui-dist; no CDN, no online validator).
 *
 * It also watches every route the server registers, so an API route without an entry in the document is
 * reported (a warning at start, and `undocumentedApiRoutes()` for the conformance test).
 */
import fastifySwagger, { type StaticDocumentSpec } from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import packageJson from '../../../package.json' with { type: 'json' };
import { buildOpenApiDocument, documentedRoutes } from '../openapi-document.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

declare module 'fastify' {
  interface FastifyInstance {
    /** Registered API routes (`METHOD /path/{param}`) missing from the OpenAPI document. */
    undocumentedApiRoutes(): string[];
  }
}

/** `/api/faces/:faceToken` → `/api/faces/{faceToken}`, the OpenAPI spelling. */
const openApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

/** Pages and their assets (Swagger UI, the web console) are not API routes; everything else must be documented. */
const PAGE_PREFIXES = [DOCS_PATH, '/console/'];
const isPage = (url: string): boolean => url === '/' || url.includes('*') || PAGE_PREFIXES.some((prefix) => url.startsWith(prefix));

const openApi: FastifyPluginAsync = async (app) => {
  const document = buildOpenApiDocument(packageJson.version);
  const documented = documentedRoutes(document);

  const registered: string[] = [];
  app.addHook('onRoute', (route) => {
    // The documentation is public when access control is on, Swagger UI's assets included.
    if (route.url === OPENAPI_PATH || route.url.startsWith(DOCS_PATH)) route.config = { ...route.config, scope: 'public' };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) if (method !== 'HEAD') registered.push(`${method} ${openApiPath(route.url)}`);
  });
  app.decorate('undocumentedApiRoutes', () =>
    registered.filter((key) => !documented.has(key) && !isPage(key.slice(key.indexOf(' ') + 1))),
  );
  app.addHook('onReady', async () => {
    const missing = app.undocumentedApiRoutes();
    if (missing.length > 0) app.log.warn({ routes: missing }, 'routes missing from the OpenAPI document');
  });

  app.get(OPENAPI_PATH, async () => document);
  // Swagger UI reads the document through @fastify/swagger. Both packages type the same OpenAPI object, with
  // typings that differ in detail (openapi-types vs zod-openapi's own).
  const specification: StaticDocumentSpec = { document: document as unknown as StaticDocumentSpec['document'] };
  await app.register(fastifySwagger, { mode: 'static', specification });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PATH });
};

/** Not encapsulated: the route watch must see the routes of every other plugin. */
export const openApiPlugin = fastifyPlugin(openApi, { name: 'visage-openapi' });
