import type { KubeObject } from "./chart.js";

/** A kubernetes-models class: `new Deployment(data).validate()` checks types, required fields and enums. */
interface ModelClass {
  new (data: unknown): { validate(): void };
  prototype: { validate: (this: unknown) => void };
}

async function modelFor(object: KubeObject): Promise<ModelClass> {
  // kubernetes-models lays its classes out as <apiVersion>/<Kind>, e.g. apps/v1/Deployment, v1/Secret.
  const specifier = `kubernetes-models/${object.apiVersion}/${object.kind}`;
  const module = (await import(/* @vite-ignore */ specifier)) as Record<string, ModelClass | undefined>;
  const model = module[object.kind];
  if (!model) throw new Error(`kubernetes-models has no ${object.apiVersion} ${object.kind}`);
  return model;
}

/**
 * The paths of the fields in `object` that its schema does not declare, e.g. "/spec/replicaz".
 *
 * kubernetes-models ships its schemas compiled into ajv validators, which ignore undeclared fields (the
 * Kubernetes OpenAPI schemas do not forbid them). A compiled validator does read every declared property of
 * every object it visits (`data.spec`, `data.replicas`, ...), and every key of a map it validates, so the
 * check runs it on a proxy that records what was read: whatever the validator never looked at is a field the
 * schema does not have.
 */
function undeclaredFields(validate: (this: unknown) => void, object: object): string[] {
  const readKeys = new WeakMap<object, Set<string>>();
  const proxies = new WeakMap<object, object>();
  const watch = (target: object): object => {
    let proxy = proxies.get(target);
    if (!proxy) {
      const keys = new Set<string>();
      readKeys.set(target, keys);
      proxy = new Proxy(target, {
        get(inner, key, receiver) {
          const value: unknown = Reflect.get(inner, key, receiver);
          if (typeof key === "string") keys.add(key);
          return value !== null && typeof value === "object" ? watch(value) : value;
        },
      });
      proxies.set(target, proxy);
    }
    return proxy;
  };
  try {
    validate.call(watch(object));
  } catch {
    // Type and required-field errors are validate()'s to report; here only the reads matter.
  }

  const undeclared: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}/${index}`));
      return;
    }
    const keys = readKeys.get(value);
    if (!keys) return;
    for (const [key, child] of Object.entries(value)) {
      if (keys.has(key)) walk(child, `${path}/${key}`);
      else undeclared.push(`${path}/${key}`);
    }
  };
  walk(object, "");
  return undeclared;
}

/**
 * Every schema problem of one Kubernetes object: what kubernetes-models' validate() reports (types, required
 * fields, enums, formats), and every field the schema does not declare. An empty list means valid.
 *
 * @example
 * expect(await schemaProblems(deployment)).toEqual([]);
 */
export async function schemaProblems(object: KubeObject): Promise<string[]> {
  const model = await modelFor(object);
  const problems: string[] = [];
  try {
    new model(object).validate();
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const path of undeclaredFields(model.prototype.validate, object)) {
    problems.push(`${path} is not a field of ${object.apiVersion} ${object.kind}`);
  }
  return problems;
}
