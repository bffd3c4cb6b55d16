// C0/C1 controls (terminal escapes, carriage returns), zero-width and bidi-override characters:
// anything that could rewrite or disguise what a terminal shows.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const unsafe = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * Makes a value from a log file or the command line safe to print on a terminal: characters that
 * could move the cursor, change colours or reorder text are shown as `\uXXXX` escapes instead.
 *
 * @example
 * printable("ok\u001b[2Jwiped"); // 'ok\\u001b[2Jwiped'
 */
export function printable(value: string): string {
  return value.replace(unsafe, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
