import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";

/** One place variables come from; earlier layers win. */
export type Layer = Readonly<Record<string, string | undefined>>;

/** A raw value, or why it could not be read (and under which variable name). */
export type RawValue = { value: string | undefined } | { variable: string; problem: string };

/** An empty or blank value counts as missing. */
export function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** The first present value of `name` across the layers. */
export function lookup(layers: readonly Layer[], name: string): string | undefined {
  for (const layer of layers) {
    const value = present(layer[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * A secret comes from `NAME` or from the file `NAME_FILE` points at (trailing newlines trimmed),
 * from the first layer that has either; one layer setting both is an error.
 */
export function readSecret(layers: readonly Layer[], name: string, cwd: string): RawValue {
  const fileVariable = `${name}_FILE`;
  for (const layer of layers) {
    const value = present(layer[name]);
    const file = present(layer[fileVariable]);
    if (value !== undefined && file !== undefined) {
      return { variable: name, problem: `set either ${name} or ${fileVariable}, not both` };
    }
    if (value !== undefined) return { value };
    if (file !== undefined) {
      const path = resolve(cwd, file.trim());
      try {
        return { value: present(readFileSync(path, "utf8").replace(/[\r\n]+$/, "")) };
      } catch (error) {
        return { variable: fileVariable, problem: `cannot read ${JSON.stringify(path)} (${codeOf(error)})` };
      }
    }
  }
  return { value: undefined };
}

/**
 * The variables of a dotenv file, parsed by Node's own `util.parseEnv`. A missing file is an
 * empty layer unless it had to exist.
 */
export function readDotenv(path: string, mustExist: boolean): { layer: Layer } | { problem: string } {
  try {
    return { layer: parseEnv(readFileSync(path, "utf8")) };
  } catch (error) {
    if (!mustExist && codeOf(error) === "ENOENT") return { layer: {} };
    return { problem: `cannot read ${JSON.stringify(path)} (${codeOf(error)})` };
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}
