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

/** A state value as text: `recovering`, `open(flush.writing, compaction.idle, writes.flowing)` for a parallel state's regions. */
export function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value)
    .map(([key, child]) => {
      if (child === undefined || (typeof child === 'object' && child !== null && Object.keys(child).length === 0)) return key;
      const several = typeof child === 'object' && child !== null && Object.keys(child).length > 1;
      return several ? `${key}(${stateText(child)})` : `${key}.${stateText(child)}`;
    })
    .join(', ');
}

/** The active leaf states of a value, as dot-joined paths: `open.flush.writing`, `open.writes.flowing`. */
export function activeLeaves(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const leaves = activeLeaves(child, `${prefix}${key}.`);
    return leaves.length === 0 ? [prefix + key] : leaves;
  });
}
