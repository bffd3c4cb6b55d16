// No secret in git: over every tracked file, nothing that looks like a real secret, no .env, and
// a tracked .env.example (that it matches the settings schemas is scripts/env-example.test.ts).
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSecrets, type Finding } from "./support/secret-scan.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" });

describe("the repository", () => {
  it("tracks no file holding something that looks like a real secret", () => {
    // On failure: replace the value by a change-me-… placeholder, or compute it at run time.
    expect(findSecrets(ROOT)).toEqual([]);
  });

  it("ignores .env and tracks none", () => {
    expect(spawnSync("git", ["check-ignore", "-q", ".env"], { cwd: ROOT }).status).toBe(0);
    expect(git(ROOT, "ls-files", "--", ".env", "**/.env")).toBe("");
  });

  it("tracks .env.example, whose match with the settings schemas scripts/env-example.test.ts checks", () => {
    expect(git(ROOT, "ls-files", "--", ".env.example")).toBe(".env.example\n");
    expect(existsSync(join(ROOT, "scripts/env-example.test.ts"))).toBe(true);
  });
});

describe("the secret check, on a copy of the repository with secrets planted in it", () => {
  const copy = mkdtempSync(join(tmpdir(), "ward-planted-"));
  const random = (length: number, alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") =>
    Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("");
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  // Built at run time, so this file holds none of them.
  const planted: Record<string, [file: string, content: string]> = {
    "private key": ["deploy/tls.txt", `-----BEGIN ${"RSA PRIVATE"} KEY-----\n${random(64)}\n`],
    "AWS access key id": ["scripts/upload.ts", `const id = "${"AKIA"}${random(16)}";\n`],
    "JSON Web Token": [
      "docs/example.md",
      `curl -H "Authorization: Bearer ${base64url({ alg: "HS256" })}.${base64url({ sub: "admin-user-1" })}.${random(43, "abcdefghijklmnopqrstuvwxyz0123456789_-")}"\n`,
    ],
    "GitHub token": ["scripts/release.ts", `const token = "${"ghp"}_${random(36)}";\n`],
    "password in a URL": [
      "services/gateway/src/db.ts",
      `const url = "postgres://app:${random(20).toLowerCase()}@db:5432/ward";\n`,
    ],
    "secret setting with a value": [
      "helm/ward/ci/leaky-values.yaml",
      `secrets:\n  JWT_SECRET: ${random(40).toLowerCase()}\n`,
    ],
    "secret file": ["k8s/dev/.env", "LOG_LEVEL=debug\n"],
  };
  let findings: Finding[];

  beforeAll(() => {
    for (const file of git(ROOT, "ls-files", "-z").split("\0").filter(Boolean)) {
      if (!existsSync(join(ROOT, file))) continue;
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
    }
    git(copy, "init", "-q");
    git(copy, "add", "-A");
    for (const [file, content] of Object.values(planted)) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      writeFileSync(join(copy, file), content);
      git(copy, "add", "-f", file);
    }
    // Not added: only what git tracks is looked at.
    writeFileSync(join(copy, "untracked-notes.txt"), `postgres://app:${random(20).toLowerCase()}@db/ward\n`);
    findings = findSecrets(copy);
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it.each(Object.entries(planted))("finds the planted %s", (rule, [file]) => {
    expect(findings).toContainEqual(expect.objectContaining({ rule, file }));
  });

  it("finds nothing else: not in the copied files, nor in files git does not track", () => {
    const plantedFiles = new Set(Object.values(planted).map(([file]) => file));
    expect(findings.filter((finding) => !plantedFiles.has(finding.file))).toEqual([]);
  });

  it("never reports a whole secret, only its start", () => {
    for (const finding of findings) expect(finding.excerpt.length).toBeLessThanOrEqual(13);
  });
});
