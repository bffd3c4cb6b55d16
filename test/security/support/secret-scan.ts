/**
 * Looks through a repository's tracked files for what looks like a real secret. Narrow on
 * purpose: known token formats anywhere, passwords in URLs and secret-named settings with a
 * value that is not an obvious placeholder, and files that hold keys by their very name.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

export interface Finding {
  file: string;
  line: number;
  rule: string;
  /** The start of what matched, cut short so a report never prints a whole secret. */
  excerpt: string;
}

/**
 * What an obvious placeholder is, and nothing else: the project's `change-me…` convention, the
 * words `password`/`postgres`, `<angle brackets>`, and values computed elsewhere (`${…}`, `$(…)`,
 * `$VAR`, `{{ … }}` templates).
 */
const PLACEHOLDER =
  /^(?:change-me[\w.%@/+=:-]*|password|PASSWORD|postgres|<[\w .-]+>|\$\{[^}]*\}|\$\([^)]*\)?|\$\w+|\{\{.*)$/;

interface Rule {
  name: string;
  pattern: RegExp;
  /** Skip source code, where such names are object keys holding test values. */
  outsideCode?: boolean;
  /** Group 1 of the match is fine when this says so. */
  allowed?: (value: string) => boolean;
}

const CODE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;

const RULES: Rule[] = [
  { name: "private key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { name: "AWS access key id", pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/ },
  {
    name: "AWS secret access key",
    pattern: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}/i,
  },
  { name: "JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { name: "GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/ },
  { name: "Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: "Stripe live key", pattern: /\b[rs]k_live_[A-Za-z0-9]{16,}/ },
  { name: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
  { name: "npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b|_authToken\s*=\s*(?!\$\{)\S+/ },
  { name: "Sentry DSN", pattern: /\bhttps?:\/\/[0-9a-f]{32}(?::[0-9a-f]{32})?@[\w.-]+\/\d+/ },
  {
    name: "password in a URL",
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'`]*:([^\s@"'`/]+)@/gi,
    allowed: (password) => PLACEHOLDER.test(password),
  },
  {
    // In env files, YAML, Dockerfiles, scripts and docs.
    name: "secret setting with a value",
    pattern:
      /^\s*(?:-\s*)?(?:export\s+|ENV\s+)?[A-Z][A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|DSN)[A-Z0-9_]*\s*[:=][ \t]*(\S.*)$/gm,
    outsideCode: true,
    allowed: isPlaceholderValue,
  },
];

/** Files that hold keys or local secrets by their very name. */
const SECRET_FILES =
  /^(?:\.env(?:\.(?!example$)[\w.-]+)?|.*\.(?:pem|key|p12|pfx|jks|keystore)|id_(?:rsa|dsa|ecdsa|ed25519)|credentials\.json|\.netrc|\.pgpass)$/;

/**
 * Every finding in the files `git ls-files` lists under `root` (binary files skipped).
 *
 * @example
 * expect(findSecrets(process.cwd())).toEqual([]);
 */
export function findSecrets(root: string): Finding[] {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  // A tracked file deleted in the working tree is not there to read.
  return files.flatMap((file) =>
    existsSync(join(root, file)) ? findingsIn(file, readFileSync(join(root, file))) : [],
  );
}

function findingsIn(file: string, content: Buffer): Finding[] {
  const found: Finding[] = [];
  if (SECRET_FILES.test(basename(file)))
    found.push({ file, line: 0, rule: "secret file", excerpt: basename(file) });
  if (content.subarray(0, 8000).includes(0)) return found;
  const text = content.toString("utf8");
  for (const rule of RULES) {
    if (rule.outsideCode && CODE.test(file)) continue;
    const pattern = new RegExp(
      rule.pattern.source,
      rule.pattern.flags.includes("g") ? rule.pattern.flags : `${rule.pattern.flags}g`,
    );
    for (const match of text.matchAll(pattern)) {
      if (rule.allowed && match[1] !== undefined && rule.allowed(match[1])) continue;
      const line = text.slice(0, match.index).split("\n").length;
      found.push({ file, line, rule: rule.name, excerpt: `${match[0].slice(0, 12)}…` });
    }
  }
  return found;
}

/** A setting's value that is empty, a placeholder, a boolean, or a URL with placeholder credentials. */
function isPlaceholderValue(raw: string): boolean {
  const value = raw
    .trim()
    .replace(/^(["'])(.*)\1$/, "$2")
    .replace(/\s+#.*$/, "");
  if (value === "" || /^(?:true|false|null|~|""|'')$/.test(value) || PLACEHOLDER.test(value)) return true;
  const credentials = /^[a-z][a-z0-9+.-]*:\/\/([^@/\s]*)@/i.exec(value)?.[1];
  if (credentials !== undefined)
    return credentials.split(":").every((part) => part === "" || PLACEHOLDER.test(part));
  // A URL without credentials names a place, not a secret.
  return /^[a-z][a-z0-9+.-]*:\/\/[^@\s]*$/i.test(value);
}
