/**
 * The node: one xstate actor per Maelstrom node id.
 *
 *   uninitialized --init--> recovering --store open--> ready <--> flushing
 *
 * `recovering` opens the Store: reads the MANIFEST, opens SSTables and
 * replays WAL segments; damage it must not paper over fails the init (13).
 *
 * Requests are appended to `context.pending` as they arrive and served in
 * order by whichever state can serve them: uninitialized answers 11 (or takes
 * an init), recovering holds everything until the store is open, ready and
 * flushing serve reads and writes. `flushing` writes the oldest frozen
 * MemTable to an SSTable in an invoked promise actor while requests keep
 * being served, and retries with backoff when a flush fails (the MemTable
 * stays in memory, so nothing is lost).
 *
 * Replies leave through `context.output`, in arrival order: every action is
 * a plain `assign` that appends its replies to the output of its macrostep
 * (see Output in nodeContext.ts). With `--sync always` a batch's replies are
 * held (`context.held`) until the WAL sync covering it, which runs as a
 * spawned `walSync` child while the next batch is served (outbox.ts).
 */
import { join } from 'node:path';
import { assign, fromPromise, setup } from 'xstate';
import { Store, type FlushedTable, type StoreOptions } from '../storage/store.js';
import type { NodeContext, NodeEvent, NodeInput, Output } from './nodeContext.js';
import { releaseSynced, type Served, startSyncing, syncInFlight } from './outbox.js';
import { answerFlushWaiter, completeInit, failInit, serveReady, serveUninitialized } from './serveRequests.js';

/** Retry delay after the n-th consecutive failed flush: 100 ms doubling, at most 5 s. */
export function flushRetryDelayMs(failures: number): number {
  return Math.min(100 * 2 ** Math.max(0, failures - 1), 5000);
}

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
    syncWal: fromPromise<void, { store: Store }>(({ input }) => input.store.syncWal()),
  },
  actions: {
    enqueueRequests: assign({
      pending: ({ context, event }) => context.pending.concat((event as Extract<NodeEvent, { type: 'requests' }>).envelopes),
    }),
    serveUninitialized: assign(({ context, event }) => withOutput(context, event, serveUninitialized(context))),
    serveReady: assign(({ context, event }) => withOutput(context, event, serveReady(context))),
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
    completeInit: assign(({ context, event }) => {
      const store = (event as unknown as { output: Store }).output;
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
      return withOutput(context, event, completeInit(context, store));
    }),
    failInit: assign(({ context, event }) => {
      const error = (event as unknown as { error: unknown }).error;
      context.log.error({ err: error }, 'store failed to open');
      return withOutput(context, event, failInit(context, error));
    }),
    installFlushed: assign(({ context, event }) => {
      const flushed = (event as unknown as { output: FlushedTable }).output;
      context.store!.installFlushed(flushed);
      context.log.info(
        { file: flushed.file, entries: flushed.properties.entries, bytes: flushed.properties.sizeBytes },
        'flushed',
      );
      return { ...withOutput(context, event, answerFlushWaiter(context, flushed)), flushFailures: 0 };
    }),
    countFlushFailure: assign({
      flushFailures: ({ context, event }) => {
        const failures = context.flushFailures + 1;
        context.log.error(
          { err: (event as unknown as { error: unknown }).error, failures, retry_ms: flushRetryDelayMs(failures) },
          'flush failed; MemTable kept, will retry',
        );
        return failures;
      },
    }),
  },
  guards: {
    initRequested: ({ context }) => context.initRequest !== null,
    hasFrozen: ({ context }) => context.store!.frozenCount > 0,
  },
  delays: {
    flushRetry: ({ context }) => flushRetryDelayMs(context.flushFailures),
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
    held: [],
    flushFailures: 0,
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
        src: 'openStore',
        input: ({ context }) => ({
          dir: join(context.options.dataRoot, context.nodeId),
          memtableMaxBytes: context.options.memtableMaxBytes,
          maxImmutable: context.options.maxImmutable,
          fs: context.options.fs,
          caches: context.options.caches,
          wal: context.options.wal,
        }),
        onDone: { target: 'ready', actions: 'completeInit' },
        onError: { target: 'uninitialized', actions: 'failInit' },
      },
    },
    ready: {
      entry: ['serveReady', 'startWalSync'],
      on: { requests: { actions: ['enqueueRequests', 'serveReady', 'startWalSync'] } },
      always: { guard: 'hasFrozen', target: 'flushing' },
    },
    flushing: {
      initial: 'writing',
      on: { requests: { actions: ['enqueueRequests', 'serveReady', 'startWalSync'] } },
      states: {
        writing: {
          invoke: {
            src: 'flushOldest',
            input: ({ context }) => {
              const { holdFlush } = context.options;
              return { store: context.store!, hold: holdFlush && (() => holdFlush(context.nodeId)) };
            },
            onDone: { target: 'written', actions: ['installFlushed', 'serveReady', 'startWalSync'] },
            onError: { target: 'backoff', actions: 'countFlushFailure' },
          },
        },
        written: {
          always: [{ guard: 'hasFrozen', target: 'writing' }, { target: '#node.ready' }],
        },
        backoff: {
          after: { flushRetry: 'writing' },
        },
      },
    },
  },
});
