// Text from reports (hostnames, summaries, reasons, file names) reaches terminals and spreadsheets:
// control characters are shown as escapes, never sent, so an ESC, BEL or NUL in a hostname cannot
// retitle a terminal or hide lines; a CSV cell that a spreadsheet would run as a formula is quoted.

/** C0 controls, DEL and C1 controls (0x80-0x9f: 0x9b is a one-byte CSI on some terminals). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with every control character written as \xNN (\n, \r and \t as themselves escaped). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** A deep copy of plain data with every string (keys too) passed through escapeControls. */
export function terminalSafe<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map((v) => terminalSafe(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[escapeControls(k)] = terminalSafe(v);
    return out as T;
  }
  return value;
}

/**
 * A CSV cell a spreadsheet will not evaluate: text starting with = + - @ (or a tab or CR, which
 * some spreadsheets skip first) gets a leading apostrophe (OWASP's CSV-injection advice).
 * Numbers keep their sign: only strings are guarded.
 */
export function csvSafeText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * JSON.stringify, with DEL and the C1 controls (U+007F-U+009F) written as \u00XX: JSON.stringify
 * escapes only U+0000-U+001F, and a raw C1 CSI from a report's hostname or a unit file would reach a
 * terminal that shows the document. The same JSON value either way (they occur only inside strings).
 */
export function jsonText(value: unknown, indent: number | string = 2): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
