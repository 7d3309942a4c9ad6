/**
 * The runtime wires protocol to actors: stdin bytes become lines, lines
 * become envelopes, envelopes are routed by `dest` (RxJS groupBy) to one node
 * actor each, and the actors' output goes to the one stdout sink.
 *
 * Backpressure: one stdin chunk is handed over at a time, as one event per
 * node. The next chunk is read only when every node has served everything
 * it received (no write stall, no pending init or sstable_flush), has fewer
 * than MAX_WAITING_BATCHES batches of replies waiting for a WAL sync
 * (caughtUp), and stdout has drained, so memory stays bounded however fast
 * input arrives.
 *
 * Bounded by node count too: after each chunk, an actor still uninitialized
 * and caught up is retired (stopped, its group completed), keeping only its
 * msg_id counter, so a stream of messages to ever new `dest`s (typos, junk)
 * costs a counter each, a bounded number of them, not an actor.
 * Its next message starts a fresh actor that numbers on from that counter.
 */
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { Subject, groupBy, mergeMap } from 'rxjs';
import { type InspectionEvent, waitFor } from 'xstate';
import { type Envelope, parseEnvelope } from '../protocol/envelope.js';
import { LineSplitter } from '../protocol/lineSplitter.js';
import { OutputSink } from '../protocol/outputSink.js';
import { type NodeActor, caughtUp, countHosted, idle, retirable, startNodeActor } from './nodeActor.js';
import type { InstallKind, NodeOptions } from './nodeContext.js';

export interface RuntimeOptions {
  /** stdin, or any source of chunks; each chunk is handed to the nodes as one batch. */
  input: AsyncIterable<Buffer | string>;
  output: Writable;
  log: Logger;
  maxLineBytes: number;
  node: NodeOptions;
  /** Also receives every actor's inspection events (the Stately inspector, with --inspect). */
  inspect?: (event: InspectionEvent) => void;
  /** Told after a node installs a flush or a compaction (replay keeps them where the log had them). */
  onInstalled?: (nodeId: string, kind: InstallKind) => void;
  /** Nodes (open or opening stores) this process may host; an init past them is answered 10. Default: no limit. */
  maxNodes?: number;
  /** msg_id counters of retired nodes kept at most (see the top of this file); default MAX_RETIRED_COUNTERS. */
  maxRetiredCounters?: number;
}

/** Groups a chunk's envelopes by dest, keeping arrival order within each dest. */
function byDest(envelopes: Envelope[]): Array<{ dest: string; envelopes: Envelope[] }> {
  const groups = new Map<string, Envelope[]>();
  for (const envelope of envelopes) {
    const group = groups.get(envelope.dest);
    if (group) group.push(envelope);
    else groups.set(envelope.dest, [envelope]);
  }
  return [...groups].map(([dest, list]) => ({ dest, envelopes: list }));
}

/**
 * msg_id counters of retired nodes remembered, oldest forgotten first. Only
 * nodes that never initialized are retired, so one forgotten restarts at 0
 * having sent nothing but errors; the bound keeps junk dests from growing
 * memory without end (about 100 bytes each).
 */
const MAX_RETIRED_COUNTERS = 100_000;

/** Runs nodes over `input` until it ends and all work is finished. */
export async function runNodes(options: RuntimeOptions): Promise<void> {
  const { log } = options;
  const sink = new OutputSink(options.output);
  const splitter = new LineSplitter(options.maxLineBytes);
  const actors = new Map<string, NodeActor>();
  /** Completing a node's subject ends its group, so its next message opens a new one. */
  const retirements = new Map<string, Subject<void>>();
  const retiredCounters = new Map<string, number>();
  const maxRetiredCounters = options.maxRetiredCounters ?? MAX_RETIRED_COUNTERS;
  const nodeOptions: NodeOptions = {
    ...options.node,
    nodeLimit: options.maxNodes === undefined ? undefined : { max: options.maxNodes, hosted: () => countHosted(actors.values()) },
  };
  const arrivals = new Subject<Envelope[]>();
  /** Chunks handed to the nodes so far: logged with each line, so replay can cut the same batches. */
  let batch = 0;

  arrivals
    .pipe(
      mergeMap((envelopes) => byDest(envelopes)),
      groupBy((group) => group.dest, {
        duration: (perNode) => {
          const retired = new Subject<void>();
          retirements.set(perNode.key, retired);
          return retired;
        },
      }),
    )
    .subscribe((perNode) => {
      const nodeId = perNode.key;
      const actor = startNodeActor({ nodeId, nextMsgId: retiredCounters.get(nodeId) ?? 0, nodeOptions, log, sink, batches: () => batch, inspect: options.inspect, onInstalled: options.onInstalled });
      retiredCounters.delete(nodeId);
      actors.set(nodeId, actor);
      perNode.subscribe(({ envelopes }) => actor.send({ type: 'requests', envelopes }));
    });

  const retireIdleNodes = (): void => {
    for (const [nodeId, actor] of actors) {
      const snapshot = actor.getSnapshot();
      if (!retirable(snapshot)) continue;
      actor.stop();
      actors.delete(nodeId);
      retirements.get(nodeId)!.next();
      retirements.delete(nodeId);
      if (retiredCounters.size >= maxRetiredCounters) retiredCounters.delete(retiredCounters.keys().next().value!);
      retiredCounters.set(nodeId, snapshot.context.nextMsgId);
      log.debug({ node_id: nodeId, next_msg_id: snapshot.context.nextMsgId, batch }, 'node retired');
    }
  };

  let oversized = 0;
  const handOver = (lines: string[]): void => {
    batch++;
    if (splitter.oversized > oversized) {
      log.warn({ lines: splitter.oversized - oversized, limit: options.maxLineBytes }, 'over-long line skipped');
      oversized = splitter.oversized;
    }
    const envelopes: Envelope[] = [];
    const debug = log.isLevelEnabled('debug');
    for (const line of lines) {
      const parsed = parseEnvelope(line);
      if (debug) {
        const ids = 'malformed' in parsed ? {} : { node_id: parsed.dest, msg_id: parsed.body.msg_id };
        log.debug({ ...ids, batch, line }, 'received');
      }
      if ('malformed' in parsed) log.warn({ reason: parsed.malformed, line: line.slice(0, 200) }, 'malformed line skipped');
      else envelopes.push(parsed);
    }
    if (envelopes.length > 0) arrivals.next(envelopes);
  };

  for await (const chunk of options.input) {
    handOver(splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    for (const actor of actors.values()) {
      if (!caughtUp(actor.getSnapshot())) await waitFor(actor, caughtUp, { timeout: Infinity });
    }
    retireIdleNodes();
    if (sink.needsDrain) await sink.drained();
  }
  handOver(splitter.end());
  arrivals.complete();

  for (const actor of actors.values()) await waitFor(actor, idle, { timeout: Infinity });
  for (const actor of actors.values()) {
    const { store } = actor.getSnapshot().context;
    // Stopped first, so its last snapshot (the inspector's last picture of the node) shows the store still open.
    actor.stop();
    store?.close();
  }
  await sink.flush();
}
