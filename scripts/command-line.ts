/**
 * Reads a command's arguments the same way for every `pnpm` command: `--help` (or `-h`) prints
 * its usage and exits 0; an unknown flag, a missing value or a stray argument prints one line
 * saying so and exits 2.
 *
 * @example
 * const { values } = readCommandLine("token", usage, { user: { type: "string", default: "user-1" } });
 */
import { parseArgs } from "node:util";

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"] & object;

export function readCommandLine<const T extends Options>(
  command: string,
  usage: string,
  options: T,
  { positionals = false, args = process.argv.slice(2) } = {},
) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: positionals,
      strict: true,
    });
  } catch (error) {
    // The message can quote what was typed: no control character reaches the terminal.
    const reason = (
      error instanceof Error ? (error.message.split(/\.\s/)[0] ?? "") : "bad arguments"
    ).replace(/\p{Cc}/gu, "?");
    console.error(`${command}: ${reason} (pnpm ${command} --help shows the usage)`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage.trim());
    process.exit(0);
  }
  return parsed;
}
