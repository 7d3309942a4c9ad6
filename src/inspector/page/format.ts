/** Formatting shared by the inspector server and its page (runs in both: no imports). */

/** Bytes in B, KiB or MiB, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Text safe inside HTML or SVG, in content and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A state value as text: `ready`, `flushing.writing`. */
export function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value)
    .map(([key, child]) => (child === undefined || (typeof child === 'object' && child !== null && Object.keys(child).length === 0) ? key : `${key}.${stateText(child)}`))
    .join(', ');
}
