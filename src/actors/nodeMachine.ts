/**
 * The node: one xstate actor per Maelstrom node id.
 *
 *   uninitialized --init--> recovering --store open--> open
 *
 *   open (parallel):
 *     flush:       idle --[hasFrozen]--> writing --onDone--> idle
 *                                         writing --onError--> backoff --after--> writing
 *     compaction:  idle --[compaction wanted]--> running --onDone--> idle
 *                                                running --onError--> backoff --after--> idle
 *     writes:      flowing --[slowed]--> delayed --onDone (a 1 ms pause)--> flowing
 *
 * `recovering` opens the Store: reads the MANIFEST, opens SSTables and
 * replays WAL segments; damage it must not paper over fails the init (13).
 *
 * Requests are appended to `context.pending` as they arrive and served in
 * order by whichever state can serve them: uninitialized answers 11 (or takes
 * an init), recovering holds everything until the store is open, open serves
 * reads and writes while its regions work in the background:
 *
 * - `flush` writes the oldest frozen MemTable to an L0 SSTable in an invoked
 *   promise actor and retries with backoff when that fails (the MemTable
 *   stays in memory, so nothing is lost). It never waits for `compaction`:
 *   both install their version edits through the MANIFEST, whose appends
 *   queue, so a flush waits at most for one append.
 * - `compaction` runs one compaction at a time in the Store's worker thread:
 *   the steps an `lsm_compact` waits for first, else (with --compaction
 *   auto) the one LevelDB's score picks. A failed automatic compaction is
 *   retried with backoff; its inputs are untouched, so nothing is lost.
 * - `writes` slows writes while L0 holds --l0-slowdown-trigger files: each
 *   serving pass that meets a write first waits SLOWDOWN_DELAY_MS (LevelDB's
 *   1 ms a write group), so compaction gets the second core back.
 *   At --l0-stop-trigger, or with a full frozen queue, writes wait outright
 *   (Store.writesStalled): nothing is refused, stdin pauses.
 *
 * Replies leave through `context.output`, in arrival order: every action is
 * a plain `assign` that appends its replies to the output of its macrostep
 * (see Output in nodeContext.ts). With `--sync always` a batch's replies are
 * held (`context.held`) until the WAL sync covering it, which runs as a
 * spawned `walSync` child while the next batch is served (outbox.ts).
 */
import { join } from 'node:path';
import { assign, fromPromise, setup } from 'xstate';
import { type CompactionResult, inputNames } from '../storage/compaction/compactor.js';
import type { Compaction } from '../storage/compaction/picker.js';
import { Store, type FlushedTable, type StoreOptions } from '../storage/store.js';
import type { NodeContext, NodeEvent, NodeInput, Output } from './nodeContext.js';
import { releaseSynced, type Served, startSyncing, syncInFlight } from './outbox.js';
import {
  answerCompactWaiter,
  answerFlushWaiter,
  completeInit,
  failCompactWaiter,
  failInit,
  serveReady,
  serveUninitialized,
} from './serveRequests.js';

/** Retry delay after the n-th consecutive failure of a flush or a compaction: 100 ms doubling, at most 5 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(100 * 2 ** Math.max(0, failures - 1), 5000);
}

/** How long a serving pass that meets a write waits while L0 is at --l0-slowdown-trigger (LevelDB: 1 ms). */
export const SLOWDOWN_DELAY_MS = 1;

/** An invoked actor's failure, as the params of the actions that handle it. */
const errorOf = ({ event }: { event: { error: unknown } }): unknown => event.error;

/** The context update for a serving pass: its changes, and its replies appended to the output of the macrostep of `cause`. */
function withOutput(context: NodeContext, cause: Output['cause'], served: Served): Partial<NodeContext> {
  if (served.text === '') return served.update;
  const earlier = context.output !== null && context.output.cause === cause ? context.output.text : '';
  return { ...served.update, output: { cause, text: earlier + served.text } };
}

export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeEvent,
    input: {} as NodeInput,
  },
  actors: {
    openStore: fromPromise<Store, StoreOptions>(({ input }) => Store.open(input)),
    flushOldest: fromPromise<FlushedTable, { store: Store; hold?: () => Promise<void> }>(async ({ input }) => {
      const flushed = await input.store.flushOldest();
      await input.hold?.();
      return flushed;
    }),
    compact: fromPromise<CompactionResult, { store: Store; compaction: Compaction | null; hold?: () => Promise<void> }>(({ input }) =>
      input.store.compact(input.compaction, input.hold),
    ),
    syncWal: fromPromise<void, { store: Store }>(({ input }) => input.store.syncWal()),
    // A timer as an invoked actor rather than `after`: xstate reuses one event object for every
    // firing of a state's `after`, and replies are appended to the output of their cause (withOutput),
    // so a serving pass on a reused event would send the last one's replies again.
    pause: fromPromise<void, number>(({ input }) => new Promise((resolve) => setTimeout(resolve, input))),
  },
  actions: {
    enqueueRequests: assign({
      pending: ({ context, event }) => context.pending.concat((event as Extract<NodeEvent, { type: 'requests' }>).envelopes),
    }),
    serveUninitialized: assign(({ context, event }) => withOutput(context, event, serveUninitialized(context))),
    serveReady: assign(({ context, event }) => withOutput(context, event, serveReady(context))),
    // enqueueRequests then serveReady in one assign: the hot path (one event per stdin chunk), and each
    // assign costs xstate a snapshot clone.
    serveArrivals: assign(({ context, event }) => {
      const { envelopes } = event as Extract<NodeEvent, { type: 'requests' }>;
      return withOutput(context, event, serveReady({ ...context, pending: context.pending.concat(envelopes) }));
    }),
    // Group commit's second half (outbox.ts): one fdatasync in the thread pool for every batch waiting,
    // while the node serves the next chunk; one sync at a time, so the batches served meanwhile share the next.
    startWalSync: assign(({ context, spawn }) => {
      if (syncInFlight(context.held) || !context.held.some((batch) => batch.state === 'waiting')) return {};
      spawn('syncWal', { id: 'walSync', input: { store: context.store! } });
      return { held: startSyncing(context.held) };
    }),
    // The walSync child ended: its batches leave, with 13s in place if it failed.
    releaseSynced: assign(({ context, event }) => {
      const error = event.type === 'xstate.error.actor.walSync' ? event.error : undefined;
      return withOutput(context, event, releaseSynced(context, error));
    }),
    logStoreOpen: ({ context }, store: Store) => {
      const { recovery } = store;
      for (const torn of recovery.tornTails) {
        context.log.warn({ file: torn.file, valid_bytes: torn.validBytes, torn_bytes: torn.tornBytes }, 'WAL torn tail cut off; records before it kept');
      }
      const manifestTorn = recovery.manifestTornTail;
      if (manifestTorn !== undefined) {
        context.log.warn({ file: manifestTorn.file, valid_bytes: manifestTorn.validBytes, torn_bytes: manifestTorn.tornBytes }, 'MANIFEST torn tail ignored: that edit was never installed');
      }
      context.log.info(
        {
          dir: join(context.options.dataRoot, context.nodeId),
          sstables: store.stats().sstables.length,
          wal_segments_replayed: recovery.replayedSegments,
          wal_records_replayed: recovery.replayedRecords,
          obsolete_segments_removed: recovery.obsoleteSegments,
          manifest_read: recovery.manifestRead,
          manifest: recovery.manifest,
          unreferenced_files_removed: recovery.removedFiles,
        },
        'store open',
      );
    },
    completeInit: assign(({ context, event }, store: Store) => withOutput(context, event, completeInit(context, store))),
    logInitFailure: ({ context }, error: unknown) => context.log.error({ err: error }, 'store failed to open'),
    failInit: assign(({ context, event }, error: unknown) => withOutput(context, event, failInit(context, error))),
    installFlushed: ({ context }, flushed: FlushedTable) => context.store!.installFlushed(flushed),
    logFlushed: ({ context }, flushed: FlushedTable) => {
      context.log.info({ file: flushed.file, entries: flushed.properties.entries, bytes: flushed.properties.sizeBytes }, 'flushed');
    },
    answerFlushWaiter: assign(({ context, event }, flushed: FlushedTable) => ({
      ...withOutput(context, event, answerFlushWaiter(context, flushed)),
      flushFailures: 0,
    })),
    countFlushFailure: assign({ flushFailures: ({ context }) => context.flushFailures + 1 }),
    logFlushFailure: ({ context }, error: unknown) => {
      context.log.error({ err: error, failures: context.flushFailures, retry_ms: retryDelayMs(context.flushFailures) }, 'flush failed; MemTable kept, will retry');
    },
    // Picks what `running` compacts: the next step an lsm_compact waits for, else LevelDB's choice.
    pickCompaction: assign({
      compaction: ({ context }) => {
        const store = context.store!;
        const waiter = context.compactWaiter;
        if (waiter !== null) return { picked: store.pickLevelCompaction(waiter.levels[0]), forWaiter: true };
        return { picked: store.pickCompaction(), forWaiter: false };
      },
    }),
    logCompactionStarted: ({ context }) => {
      const compaction = context.compaction?.picked;
      if (compaction == null) return;
      context.log.info(
        {
          source_level: compaction.sourceLevel,
          target_level: compaction.targetLevel,
          inputs: inputNames(compaction),
          trivial_move: compaction.trivialMove,
          manual: context.compaction!.forWaiter,
        },
        'compaction started',
      );
    },
    logCompactionFinished: ({ context }, result: CompactionResult) => {
      if (result.sstablesMerged === 0) return;
      context.log.info(
        {
          source_level: result.sourceLevel,
          target_level: result.targetLevel,
          inputs: result.inputs,
          outputs: result.outputs,
          trivial_move: result.trivialMove,
          subcompactions: result.subcompactions,
          bytes_read: result.bytesRead,
          bytes: result.bytesWritten,
          keys_deduplicated: result.keysDeduplicated,
          ms: result.ms,
        },
        'compaction finished',
      );
    },
    // A compaction ended: the step an lsm_compact waits for counts, and the reply leaves once none is left.
    finishCompaction: assign(({ context }, result: CompactionResult) => {
      const update: Partial<NodeContext> = { compaction: null, compactionFailures: 0 };
      const waiter = context.compactWaiter;
      if (waiter === null || !context.compaction!.forWaiter) return update;
      return { ...update, compactWaiter: { ...waiter, levels: waiter.levels.slice(1), results: [...waiter.results, result] } };
    }),
    answerCompactWaiter: assign(({ context, event }) => withOutput(context, event, answerCompactWaiter(context))),
    countCompactionFailure: assign({ compactionFailures: ({ context }) => context.compactionFailures + 1 }),
    clearCompaction: assign({ compaction: null }),
    logCompactionFailure: ({ context }, error: unknown) => {
      const retry = !context.compaction!.forWaiter;
      context.log.error(
        { err: error, failures: context.compactionFailures, ...(retry ? { retry_ms: retryDelayMs(context.compactionFailures) } : {}) },
        retry ? 'compaction failed; inputs kept, will retry' : 'manual compaction failed; inputs kept',
      );
    },
    // A failed step of an lsm_compact answers it 13 (it may be sent again); automatic ones retry.
    failCompactWaiter: assign(({ context, event }, error: unknown) => withOutput(context, event, failCompactWaiter(context, error))),
    releaseWrites: assign({ writeDelay: 'paid' as const }),
  },
  guards: {
    initRequested: ({ context }) => context.initRequest !== null,
    walSyncs: ({ context }) => context.options.wal?.sync === true,
    hasFrozen: ({ context }) => context.store!.frozenCount > 0,
    compactWaiterDone: ({ context }) => context.compactWaiter !== null && context.compactWaiter.levels.length === 0,
    compactStepWaiting: ({ context }) => context.compactWaiter !== null,
    runningForWaiter: ({ context }) => context.compaction?.forWaiter === true,
    autoCompactionDue: ({ context }) => context.options.compaction.mode === 'auto' && context.store!.compactionDue(),
    writesDelayed: ({ context }) => context.writeDelay === 'waiting',
  },
  delays: {
    flushRetry: ({ context }) => retryDelayMs(context.flushFailures),
    compactionRetry: ({ context }) => retryDelayMs(context.compactionFailures),
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    nodeIds: [],
    nextMsgId: input.nextMsgId ?? 0,
    store: null,
    pending: [],
    initRequest: null,
    flushWaiter: null,
    compactWaiter: null,
    compaction: null,
    writeDelay: 'none',
    writesStalled: false,
    held: [],
    flushFailures: 0,
    compactionFailures: 0,
    output: null,
    options: input.options,
    log: input.log,
  }),
  initial: 'uninitialized',
  on: {
    'xstate.done.actor.walSync': { actions: ['releaseSynced', 'startWalSync'] },
    'xstate.error.actor.walSync': { actions: ['releaseSynced', 'startWalSync'] },
  },
  states: {
    uninitialized: {
      entry: 'serveUninitialized',
      on: { requests: { actions: ['enqueueRequests', 'serveUninitialized'] } },
      always: { guard: 'initRequested', target: 'recovering' },
    },
    recovering: {
      on: { requests: { actions: 'enqueueRequests' } },
      invoke: {
        id: 'openStore',
        src: 'openStore',
        input: ({ context }) => ({
          dir: join(context.options.dataRoot, context.nodeId),
          memtableMaxBytes: context.options.memtableMaxBytes,
          maxImmutable: context.options.maxImmutable,
          fs: context.options.fs,
          caches: context.options.caches,
          wal: context.options.wal,
          compaction: context.options.compaction,
          compactionRunner: context.options.compactionRunner,
        }),
        onDone: {
          target: 'open',
          actions: [
            { type: 'logStoreOpen', params: ({ event }) => event.output },
            { type: 'completeInit', params: ({ event }) => event.output },
          ],
        },
        onError: {
          target: 'uninitialized',
          actions: [
            { type: 'logInitFailure', params: errorOf },
            { type: 'failInit', params: errorOf },
          ],
        },
      },
    },
    open: {
      type: 'parallel',
      entry: ['serveReady', 'startWalSync'],
      on: {
        // Only --sync always holds replies for a sync, so only it needs startWalSync after serving.
        requests: [{ guard: 'walSyncs', actions: ['serveArrivals', 'startWalSync'] }, { actions: 'serveArrivals' }],
      },
      states: {
        flush: {
          initial: 'idle',
          states: {
            idle: {
              always: { guard: 'hasFrozen', target: 'writing' },
            },
            writing: {
              invoke: {
                id: 'flush',
                src: 'flushOldest',
                input: ({ context }) => {
                  const { holdInstall } = context.options;
                  return { store: context.store!, hold: holdInstall && (() => holdInstall(context.nodeId, 'flush')) };
                },
                onDone: {
                  target: 'idle',
                  actions: [
                    { type: 'installFlushed', params: ({ event }) => event.output },
                    { type: 'logFlushed', params: ({ event }) => event.output },
                    { type: 'answerFlushWaiter', params: ({ event }) => event.output },
                    'serveReady',
                    'startWalSync',
                  ],
                },
                onError: {
                  target: 'backoff',
                  actions: ['countFlushFailure', { type: 'logFlushFailure', params: errorOf }],
                },
              },
            },
            backoff: {
              after: { flushRetry: 'writing' },
            },
          },
        },
        compaction: {
          initial: 'idle',
          states: {
            idle: {
              always: [
                { guard: 'compactWaiterDone', actions: ['answerCompactWaiter', 'serveReady', 'startWalSync'] },
                { guard: 'compactStepWaiting', target: 'running' },
                { guard: 'autoCompactionDue', target: 'running' },
              ],
            },
            running: {
              entry: ['pickCompaction', 'logCompactionStarted'],
              invoke: {
                id: 'compaction',
                src: 'compact',
                input: ({ context }) => {
                  const { holdInstall } = context.options;
                  return { store: context.store!, compaction: context.compaction!.picked, hold: holdInstall && (() => holdInstall(context.nodeId, 'compaction')) };
                },
                onDone: {
                  target: 'idle',
                  actions: [
                    { type: 'logCompactionFinished', params: ({ event }) => event.output },
                    { type: 'finishCompaction', params: ({ event }) => event.output },
                    'serveReady',
                    'startWalSync',
                  ],
                },
                onError: [
                  {
                    guard: 'runningForWaiter',
                    target: 'idle',
                    actions: [
                      'countCompactionFailure',
                      { type: 'logCompactionFailure', params: errorOf },
                      'clearCompaction',
                      { type: 'failCompactWaiter', params: errorOf },
                      'serveReady',
                      'startWalSync',
                    ],
                  },
                  {
                    target: 'backoff',
                    actions: ['countCompactionFailure', { type: 'logCompactionFailure', params: errorOf }, 'clearCompaction'],
                  },
                ],
              },
            },
            backoff: {
              after: { compactionRetry: 'idle' },
            },
          },
        },
        writes: {
          initial: 'flowing',
          states: {
            flowing: {
              always: { guard: 'writesDelayed', target: 'delayed' },
            },
            delayed: {
              invoke: {
                id: 'slowdown',
                src: 'pause',
                input: SLOWDOWN_DELAY_MS,
                onDone: { target: 'flowing', actions: ['releaseWrites', 'serveReady', 'startWalSync'] },
              },
            },
          },
        },
      },
    },
  },
});
