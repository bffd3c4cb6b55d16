import { describe, expect, it } from "vitest";
import type { KubeObject } from "./chart.js";
import { imageConfig } from "./pod-harness-image.js";
import { ContainerConfigError, containerCommand, containerEnvironment } from "./pod-harness-kubelet.js";

const objects: KubeObject[] = [
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "app" },
    data: {
      TOKEN: Buffer.from("from-data").toString("base64"),
      SHARED: Buffer.from("old").toString("base64"),
    },
    stringData: { SHARED: "from-stringData" },
  },
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "app" },
    data: { LEVEL: "debug", "bad key": "x" },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "my-api" },
    spec: { selector: {}, ports: [{ name: "http", port: 8080, protocol: "TCP" }] },
  },
];
const pod = { objects, namespace: "ns", podName: "app-abc-xyz", podIP: "127.0.0.1" };
const image = { env: { HOME: "/tmp", LEVEL: "from-image" } };

describe("containerEnvironment", () => {
  it("resolves secretKeyRef (data decoded, stringData winning) and configMapKeyRef", () => {
    const env = containerEnvironment(
      {
        name: "app",
        env: [
          { name: "TOKEN", valueFrom: { secretKeyRef: { name: "app", key: "TOKEN" } } },
          { name: "SHARED", valueFrom: { secretKeyRef: { name: "app", key: "SHARED" } } },
          { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "app", key: "LEVEL" } } },
        ],
      },
      image,
      pod,
    );
    expect(env).toMatchObject({
      TOKEN: "from-data",
      SHARED: "from-stringData",
      LEVEL: "debug",
      HOME: "/tmp",
    });
  });

  it("leaves an optional reference to a missing key unset, and refuses a required one", () => {
    const ref = (optional?: boolean) => ({
      name: "app",
      env: [{ name: "DSN", valueFrom: { secretKeyRef: { name: "app", key: "DSN", optional } } }],
    });
    expect(containerEnvironment(ref(true), image, pod)).not.toHaveProperty("DSN");
    expect(() => containerEnvironment(ref(), image, pod)).toThrow(
      new ContainerConfigError("couldn't find key DSN in Secret ns/app"),
    );
  });

  it("refuses a reference to a missing ConfigMap", () => {
    const container = {
      name: "app",
      env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "X" } } }],
    };
    expect(() => containerEnvironment(container, image, pod)).toThrow('configmap "nope" not found');
  });

  it("takes envFrom with its prefix, skips invalid names, and lets env win over it and the image", () => {
    const env = containerEnvironment(
      {
        name: "app",
        envFrom: [{ configMapRef: { name: "app" }, prefix: "CM_" }, { secretRef: { name: "app" } }],
        env: [{ name: "TOKEN", value: "inline" }],
      },
      image,
      pod,
    );
    expect(env).toMatchObject({ CM_LEVEL: "debug", TOKEN: "inline", SHARED: "from-stringData" });
    expect(Object.keys(env)).not.toContain("CM_bad key");
  });

  it("adds the kubelet's service variables and the pod's HOSTNAME", () => {
    const env = containerEnvironment({ name: "app" }, image, pod);
    expect(env).toMatchObject({
      HOSTNAME: "app-abc-xyz",
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      MY_API_SERVICE_PORT: "8080",
      MY_API_SERVICE_PORT_HTTP: "8080",
      MY_API_PORT: `tcp://${env.MY_API_SERVICE_HOST}:8080`,
    });
    const withoutLinks = containerEnvironment({ name: "app" }, image, { ...pod, enableServiceLinks: false });
    expect(withoutLinks).not.toHaveProperty("MY_API_SERVICE_HOST");
    expect(withoutLinks).toHaveProperty("KUBERNETES_SERVICE_HOST");
  });

  it("expands $(VAR) of earlier variables, and $$ to $", () => {
    const env = containerEnvironment(
      {
        name: "app",
        env: [
          { name: "A", value: "one" },
          { name: "B", value: "$(A)-$(LATER)-$$(A)" },
          { name: "LATER", value: "two" },
        ],
      },
      image,
      pod,
    );
    expect(env.B).toBe("one-$(LATER)-$(A)");
  });
});

describe("containerCommand", () => {
  const fromImage = { entrypoint: ["/entry"], cmd: ["serve"] };

  it("runs the image's ENTRYPOINT and CMD when the spec gives neither", () => {
    expect(containerCommand({ name: "app" }, fromImage, {})).toEqual(["/entry", "serve"]);
  });

  it("drops the image's CMD when the spec gives a command, and keeps its ENTRYPOINT for args alone", () => {
    expect(containerCommand({ name: "app", command: ["node", "x.js"] }, fromImage, {})).toEqual([
      "node",
      "x.js",
    ]);
    expect(containerCommand({ name: "app", args: ["$(MODE)"] }, fromImage, { MODE: "check" })).toEqual([
      "/entry",
      "check",
    ]);
  });
});

describe("imageConfig", () => {
  it.each(["gateway", "worker"])(
    "reads the %s image's WORKDIR, ENV and CMD from its Dockerfile",
    (service) => {
      expect(imageConfig(`ward-${service}:1.2.3`)).toMatchObject({
        dockerfile: `services/${service}/Dockerfile`,
        workdir: "/app",
        folder: `services/${service}`,
        env: { NODE_ENV: "production", HOME: "/tmp" },
        entrypoint: [],
        cmd: ["node", "--import", "./dist/instrument.js", "dist/main.js"],
      });
    },
  );

  it("refuses an image skaffold.yaml does not build", () => {
    expect(() => imageConfig("busybox:1.36")).toThrow(/skaffold.yaml builds no image busybox/);
  });
});
