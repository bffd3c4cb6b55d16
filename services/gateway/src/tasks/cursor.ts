import { ApiError } from "@ward/shared/errors";

/** Where a page ends: the exact `created_at` (microseconds, UTC) and id of its last task. */
export interface PagePosition {
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The opaque `next_cursor` for a page that ends at `position`.
 *
 * @example
 * encodeCursor({ createdAt: "2025-01-31T09:30:00.123456Z", id: task.id }); // "WyIyMDI1..."
 */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString("base64url");
}

/**
 * The position a cursor stands for; a cursor this API did not hand out is a 400 naming `cursor`.
 *
 * @example
 * const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
 */
export function decodeCursor(cursor: string): PagePosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [createdAt, id] = decoded as unknown[];
      if (typeof createdAt === "string" && isRealTime(createdAt) && typeof id === "string" && UUID.test(id)) {
        return { createdAt, id };
      }
    }
  } catch {
    // not base64url JSON: answered below like any other foreign cursor
  }
  throw new ApiError(400, "validation_failed", "The request is invalid", {
    details: [{ path: "cursor", message: "is not a cursor this API returned" }],
  });
}

/** Shaped like a position and a real time in years 1 to 9999, which PostgreSQL can compare with. */
function isRealTime(text: string): boolean {
  if (!TIMESTAMP.test(text) || text.startsWith("0000")) return false;
  const time = new Date(`${text.slice(0, 23)}Z`);
  // A 31 February or a 25th hour does not come back the same.
  return !Number.isNaN(time.getTime()) && time.toISOString().slice(0, 19) === text.slice(0, 19);
}
