import { describe, expect, it } from "vitest";
import {
  SettingsError,
  defineSettings,
  describeSettings,
  int,
  list,
  loadSettings,
  postgres,
  redis,
  requiredWhen,
  secret,
  sentry,
  server,
  text,
  url,
  type SettingsContext,
} from "./index.js";

const service = defineSettings((ctx) => ({
  ...server(ctx, { port: 8081 }),
  ...postgres(),
  ...redis(ctx),
  ...sentry(),
  WEBHOOK_URL: url({ optional: true }).describe("Where deliveries go"),
  WEBHOOK_SIGNING_SECRET: secret(requiredWhen("WEBHOOK_URL", text({ min: 32 }))).describe("Signs them"),
  MAX_ATTEMPTS: int({ min: 1, max: 100, default: 5 }),
  ORIGINS: list({ of: url() }),
}));

const production: SettingsContext = { environment: "production", inKubernetes: true };
const development: SettingsContext = { environment: "development", inKubernetes: false };
const byName = (context: SettingsContext) =>
  Object.fromEntries(describeSettings(service, context).map((setting) => [setting.name, setting]));

describe("describeSettings", () => {
  it("lists every setting once, in declaration order", () => {
    expect(describeSettings(service, production).map((setting) => setting.name)).toEqual([
      "PORT",
      "ENVIRONMENT",
      "SLOW_REQUEST_MS",
      "SHUTDOWN_DELAY_MS",
      "SHUTDOWN_TIMEOUT_MS",
      "DATABASE_URL",
      "REDIS_URL",
      "REDIS_KEY_PREFIX",
      "SENTRY_DSN",
      "WEBHOOK_URL",
      "WEBHOOK_SIGNING_SECRET",
      "MAX_ATTEMPTS",
      "ORIGINS",
    ]);
  });

  it("marks the secrets", () => {
    const secrets = describeSettings(service, production).filter((setting) => setting.secret);
    expect(secrets.map((setting) => setting.name)).toEqual([
      "DATABASE_URL",
      "REDIS_URL",
      "SENTRY_DSN",
      "WEBHOOK_SIGNING_SECRET",
    ]);
  });

  it("gives each default as the service loads it, and none for required or optional settings", () => {
    const settings = byName(production);
    expect(settings.PORT).toMatchObject({ required: false, default: 8081 });
    expect(settings.ORIGINS).toMatchObject({ required: false, default: [] });
    expect(settings.DATABASE_URL).toMatchObject({ required: true, default: undefined });
    expect(settings.SENTRY_DSN).toMatchObject({ required: false, default: undefined });
  });

  it("follows the context: REDIS_URL is required outside development, the shutdown delay is 5 s in Kubernetes", () => {
    expect(byName(production).REDIS_URL).toMatchObject({ required: true, default: undefined });
    expect(byName(development).REDIS_URL).toMatchObject({
      required: false,
      default: "redis://127.0.0.1:6379",
    });
    expect(byName(production).SHUTDOWN_DELAY_MS?.default).toBe(5000);
    expect(byName(development).SHUTDOWN_DELAY_MS?.default).toBe(0);
  });

  it("names the variable that makes a setting required, and keeps descriptions", () => {
    expect(byName(production).WEBHOOK_SIGNING_SECRET).toMatchObject({
      required: false,
      requiredWhen: "WEBHOOK_URL",
      description: "Signs them",
    });
    expect(byName(production).MAX_ATTEMPTS).not.toHaveProperty("requiredWhen");
  });

  it("calls required exactly what loadSettings refuses to start without", () => {
    let problems: readonly { variable: string; problem: string }[] = [];
    try {
      loadSettings(service, { env: { ENVIRONMENT: "production" }, envFile: false });
    } catch (error) {
      if (error instanceof SettingsError) problems = error.problems;
    }
    const context: SettingsContext = { environment: "production", inKubernetes: false };
    expect(problems.map((problem) => problem.variable)).toEqual(
      describeSettings(service, context)
        .filter((setting) => setting.required)
        .map((setting) => setting.name),
    );
    expect(new Set(problems.map((problem) => problem.problem))).toEqual(new Set(["required"]));
  });
});
