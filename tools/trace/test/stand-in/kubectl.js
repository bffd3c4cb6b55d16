// A stand-in for `kubectl` that replays recorded answers, for tests that put it first on PATH (see
// kubectl.test.ts). STAND_IN_ANSWERS names a JSON file mapping the whole command line (arguments joined by
// spaces) to { stdout, stderr, code }; a command it has no answer for fails as kubectl would.
import { readFileSync } from "node:fs";
import process from "node:process";

const args = process.argv.slice(2);
const command = args.join(" ");
const answers = JSON.parse(readFileSync(process.env.STAND_IN_ANSWERS, "utf8"));
const answer = answers[command] ?? { stderr: `stand-in kubectl has no answer for: ${command}\n`, code: 1 };
process.stdout.write(answer.stdout ?? "");
process.stderr.write(answer.stderr ?? "");
process.exitCode = answer.code ?? 0;
