// An unpaired UTF-16 surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether PostgreSQL can store `value` as it is, in a `text` column and inside `jsonb`: it
 * refuses the NUL character in both, and an unpaired surrogate (which a JSON body can carry as
 * `"\ud800"`) in `jsonb`. Check input against it at the edge, so such a string is a 400 naming
 * the field rather than a failed query and a 500.
 *
 * @example
 * title: z.string().refine(isStorableText, "must not contain NUL or unpaired surrogate characters"),
 */
export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && !LONE_SURROGATE.test(value);
}
