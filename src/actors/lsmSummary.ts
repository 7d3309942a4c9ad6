/**
 * What the inspector sees of a node's LSM tree: a small summary (counts,
 * sizes, file names and key ranges), never MemTable contents. It travels in
 * the sanitized snapshot's context (inspection.ts), so the Stately viewer and
 * ours (src/inspector) both get it.
 *
 * Invariants of an LsmSummary:
 *   (1) `levels` always holds LEVEL_COUNT entries, level i at index i, so a
 *       viewer draws every level whether or not it holds files;
 *   (2) L0's files are newest first (read order); every other level's are
 *       sorted by key and do not overlap;
 *   (3) file key ranges are user keys cut to KEY_PREVIEW_CHARS, so the
 *       summary's size depends on the file count, not on the keys.
 *
 * summarizeLsm is the one place that reads the Store for it.
 */
import { inputNames } from '../storage/compaction/compactor.js';
import type { Store } from '../storage/store.js';
import { NUM_LEVELS } from '../storage/version/fileMetadata.js';
import type { RunningCompaction } from './nodeContext.js';

/** L0 to L6, as in LevelDB (config::kNumLevels). */
export const LEVEL_COUNT = NUM_LEVELS;

/** Longer keys are cut: a range is drawn, not read back. */
export const KEY_PREVIEW_CHARS = 32;

export interface LsmFile {
  file: string;
  /** Smallest and largest user key (cut to KEY_PREVIEW_CHARS); null for a file with no entries. */
  smallest: string | null;
  largest: string | null;
  sizeBytes: number;
  entries: number;
}

export interface LsmLevel {
  level: number;
  files: LsmFile[];
  bytes: number;
  /** The level's target size (L0: trigger x MemTable size, for comparison only). */
  maxBytes: number | null;
  /** bytes / maxBytes (L0: files / compactionTrigger; L6: 0, nothing lies below); a compaction is due at 1. */
  score: number | null;
}

export interface LsmSummary {
  active: { bytes: number; maxBytes: number; entries: number };
  /** Frozen MemTables waiting for a flush, oldest first (flush order). */
  frozen: Array<{ bytes: number; entries: number }>;
  /** Frozen MemTables allowed before writes stall. */
  maxFrozen: number;
  levels: LsmLevel[];
  /** L0's file count against its triggers (null: none, as with --compaction manual). */
  l0: { files: number; compactionTrigger: number | null; slowdownTrigger: number | null; stopTrigger: number | null };
  /** The flush under way: its input, the oldest frozen MemTable; `retrying` while it backs off after a failure. */
  flush: null | { bytes: number; entries: number; retrying: boolean };
  /** The compaction under way: input files of two levels merged into output files of the lower one (known once it ends). */
  compaction: null | { sourceLevel: number; targetLevel: number; inputs: string[]; outputs: string[] };
  /** Writes wait: the frozen queue is full, or L0 reached its stop trigger. */
  stalled: boolean;
  counters: {
    /** Key and value bytes put or deleted since the store opened. */
    userBytes: number;
    /** SSTable bytes written by flushes and by compactions; (flushed + compacted) / user is the write amplification. */
    flushedBytes: number;
    compactedBytes: number;
  };
}

/** The machine's flush region, as its state value says (nodeMachine.ts: open.flush). */
export type FlushPhase = 'idle' | 'writing' | 'backoff';

const preview = (key: string | null): string | null => (key === null || key.length <= KEY_PREVIEW_CHARS ? key : `${key.slice(0, KEY_PREVIEW_CHARS)}…`);

/** Summarizes `store` for the inspector, with what the machine has under way: its flush phase and compaction. */
export function summarizeLsm(store: Store, flushPhase: FlushPhase, compaction: RunningCompaction | null): LsmSummary {
  const stats = store.stats();
  const levels: LsmLevel[] = store.levelInfo(true).map((info) => ({
    level: info.level,
    files: (info.files ?? []).map((file) => ({
      file: file.file,
      smallest: preview(file.smallest),
      largest: preview(file.largest),
      sizeBytes: file.size_bytes,
      entries: file.entries,
    })),
    bytes: info.total_bytes,
    maxBytes: info.max_bytes,
    score: info.score,
  }));
  const options = store.compactionOptions;
  const auto = options.mode === 'auto';
  const oldest = stats.immutable[0];
  const picked = compaction?.picked;
  return {
    active: { bytes: stats.active.size_bytes, maxBytes: stats.max_bytes, entries: stats.active.entries },
    frozen: stats.immutable.map((layer) => ({ bytes: layer.size_bytes, entries: layer.entries })),
    maxFrozen: stats.max_immutable,
    levels,
    l0: {
      files: levels[0].files.length,
      compactionTrigger: auto ? options.l0CompactionTrigger : null,
      slowdownTrigger: auto ? options.l0SlowdownTrigger : null,
      stopTrigger: auto ? options.l0StopTrigger : null,
    },
    flush: flushPhase === 'idle' || oldest === undefined ? null : { bytes: oldest.size_bytes, entries: oldest.entries, retrying: flushPhase === 'backoff' },
    compaction: picked == null ? null : { sourceLevel: picked.sourceLevel, targetLevel: picked.targetLevel, inputs: inputNames(picked), outputs: [] },
    stalled: store.writesStalled,
    counters: store.writeCounters(),
  };
}
