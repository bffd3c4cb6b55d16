import type { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import type { Env } from "hono";

export interface ApiDocsOptions {
  /** The document's title, e.g. "ward gateway"; Swagger UI's page is "<title> API". */
  title: string;
  version: string;
  description: string;
  /** The Bearer scheme the routes' `security` names, e.g. `{ bearerAuth: { bearerFormat: "JWT" } }`. */
  securitySchemes: Record<string, { bearerFormat?: string; description?: string }>;
  /** Groups of operations, in the order Swagger UI shows them. */
  tags?: { name: string; description: string }[];
}

/**
 * Serves the API's OpenAPI document at `GET /openapi.json` (generated from the routes' zod
 * schemas) and Swagger UI at `GET /docs`.
 *
 * @example
 * if (settings.ENVIRONMENT !== "production") {
 *   serveApiDocs(app, { title: "ward worker", version, description, securitySchemes: { workerToken: {} } });
 * }
 */
export function serveApiDocs<E extends Env>(app: OpenAPIHono<E>, options: ApiDocsOptions): void {
  for (const [name, scheme] of Object.entries(options.securitySchemes)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, {
      type: "http",
      scheme: "bearer",
      ...scheme,
    });
  }
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: { title: options.title, version: options.version, description: options.description },
    ...(options.tags ? { tags: options.tags } : {}),
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: `${options.title} API` }));
}
