import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/index.js";
import { connectPostgres, isStorableText, type Sql } from "./index.js";

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = connectPostgres(db.url, { applicationName: "ward-test", max: 1 });
});
afterAll(async () => {
  await sql.end();
  await db.drop();
});

/** Whether PostgreSQL takes the string as text and inside jsonb. */
async function stores(value: string): Promise<boolean> {
  try {
    await sql`select ${value}::text as t, ${sql.json({ value })}::jsonb as j`;
    return true;
  } catch {
    return false;
  }
}

describe("isStorableText", () => {
  it.each([
    ["plain text", "Renew the TLS certificate"],
    ["the empty string", ""],
    ["accents, CJK and emoji (surrogate pairs)", "café 東京 💥🚀"],
    ["control characters other than NUL", "tab\there\u0001\u001f"],
    ["the replacement character", "\ufffd"],
  ])("accepts %s, which PostgreSQL stores", async (_kind, value) => {
    expect(isStorableText(value)).toBe(true);
    expect(await stores(value)).toBe(true);
  });

  it.each([
    ["a NUL character", "a\u0000b"],
    ["a lone high surrogate", "a\ud800b"],
    ["a lone low surrogate", "\udc00"],
    ["a high surrogate at the end", "emoji half \ud83d"],
    ["surrogates in the wrong order", "\ude00\ud83d"],
  ])("refuses %s, which PostgreSQL refuses", async (_kind, value) => {
    expect(isStorableText(value)).toBe(false);
    expect(await stores(value)).toBe(false);
  });
});
