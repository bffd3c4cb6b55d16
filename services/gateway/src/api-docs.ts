import type { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import type { Env } from "hono";

/**
 * Serves the API's OpenAPI document at `GET /openapi.json` (generated from the routes' zod
 * schemas) and Swagger UI at `GET /docs`. Add it after the routes it documents.
 *
 * @example
 * if (settings.ENVIRONMENT !== "production") serveApiDocs(app, { version });
 */
export function serveApiDocs<E extends Env>(app: OpenAPIHono<E>, { version }: { version: string }): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "HS256 JWT with `sub` (user id) and `org_id` claims; `pnpm token` prints one",
  });
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "ward gateway",
      version,
      description:
        "Tasks of your organisation. Every response carries `X-Correlation-ID`; send one to choose it.",
    },
    tags: [{ name: "tasks", description: "Create, list, read and complete tasks" }],
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: "ward gateway API" }));
}
