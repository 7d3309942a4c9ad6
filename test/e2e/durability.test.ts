/**
 * Durability through the built CLI with --data-dir: kill -9 in the middle of
 * pipelined bursts, torn and damaged WAL tails, damaged SSTables and
 * MANIFESTs, injected ENOSPC/EIO (MEMTABLE_FAULT_FILE) on the WAL and on
 * flushes, and --sync none.
 *
 * The rule every test checks: a write whose *_ok reply arrived is never lost
 * and never replaced by an older value; a write whose reply never came (or
 * came as error 13) is indefinite: it may or may not be there.
 *
 * Random choices come from a seeded generator; the seed is printed, and
 * DURABILITY_SEED=<n> replays a failing run.
 */
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c, maskCrc } from '../../src/storage/encoding/crc32c.js';
import { isLockFileName } from '../../src/storage/env/dirLock.js';
import { useTempDirs } from '../support/tempDirs.js';
import { seededRandom } from '../support/random.js';
import { type Envelope, init, request } from './cli.js';
import { killLiveNodes, scanAll, setPlan, sleep, withNode } from './nodeProcess.js';

const freshDir = useTempDirs('e2e-durability');
afterEach(killLiveNodes);

// ---------------------------------------------------------------------------
// Seeded randomness

const SEED = process.env.DURABILITY_SEED !== undefined ? Number(process.env.DURABILITY_SEED) : Date.now() % 2 ** 31;
console.log(`durability.test.ts: seed ${SEED} (replay with DURABILITY_SEED=${SEED})`);


/** A generator per test, derived from the seed and the test's name, so tests do not shift each other's choices. */
function testRandom(name: string): { random: () => number; int: (lo: number, hi: number) => number } {
  let h = SEED >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const random = seededRandom(h);
  return { random, int: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)) };
}

function walFiles(nodeDir: string): string[] {
  return readdirSync(nodeDir)
    .filter((name) => /^\d{6,}\.wal$/.test(name))
    .sort((a, b) => Number(a.slice(0, -4)) - Number(b.slice(0, -4)));
}

/**
 * The WAL record layout (docs/WAL.md): length u32 LE, kind u8 (1 put, 2 delete),
 * headerCrc u32 LE (masked CRC32C of length ++ kind), payloadCrc u32 LE (masked
 * CRC32C of the payload), payload. The tests that damage records check this
 * encoder against bytes the node wrote, so a format change fails loudly here.
 */
const WAL_HEADER = 13;

function encodeWalRecord(kind: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(WAL_HEADER);
  header.writeUInt32LE(payload.length, 0);
  header[4] = kind;
  header.writeUInt32LE(maskCrc(crc32c(header.subarray(0, 5))), 5);
  header.writeUInt32LE(maskCrc(crc32c(payload)), 9);
  return Buffer.concat([header, payload]);
}

function encodePut(key: string, valueJson: string): Buffer {
  const keyLength = Buffer.alloc(4);
  keyLength.writeUInt32LE(Buffer.byteLength(key, 'utf8'), 0);
  return encodeWalRecord(1, Buffer.concat([keyLength, Buffer.from(key, 'utf8'), Buffer.from(valueJson, 'utf8')]));
}

/** Offsets of the records in a WAL segment. */
function walRecordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let offset = 0;
  while (offset + WAL_HEADER <= bytes.length) {
    offsets.push(offset);
    offset += WAL_HEADER + bytes.readUInt32LE(offset);
  }
  expect(offset, 'the segment parses as whole records').toBe(bytes.length);
  return offsets;
}

/** Offset of the payload of the record at `offset`. */
const payloadAt = (offset: number): number => offset + WAL_HEADER;

const SMALL = ['--memtable-max-bytes', '8192', '--max-immutable', '2'];
/** SMALL with compaction at every second flush into small levels, so files are rewritten down to L3 and moved all the time. */
const COMPACTING = [...SMALL, '--l0-compaction-trigger', '2', '--l0-slowdown-trigger', '3', '--l0-stop-trigger', '4', '--target-file-bytes', '4096', '--level-base-bytes', '8192', '--level-multiplier', '2'];

// ---------------------------------------------------------------------------

describe('kill -9 during pipelined bursts', () => {
  it.each([
    ['compaction left to lsm_compact', [...SMALL, '--compaction', 'manual']],
    ['compaction-heavy', COMPACTING],
  ])('never loses an acknowledged write nor brings back an older value, over many kill/restart cycles (%s)', async (name, args) => {
    const { random, int } = testRandom(`kill -9 cycles ${name}`);
    const dataDir = freshDir();
    const KEYS = 300;
    const CYCLES = 8;
    const keyName = (k: number): string => `k${String(k).padStart(3, '0')}`;
    /** The state every check starts from: what the last restart observed (values are unique strings; absent = not in the map). */
    let model = new Map<string, unknown>();
    const totals = { acked: 0, ackedKeysChecked: 0, indefinite: 0, indefiniteSurvived: 0, flushesAcked: 0, keysChecked: 0 };

    type Write = { msgId: number; key: string; value: string | null };
    let previous: { writes: Write[]; acked: Set<number>; cycle: number } | undefined;

    /** Checks `observed` against `model` and the writes of the previous cycle. */
    const check = (observed: Map<string, unknown>): void => {
      if (previous === undefined) {
        expect(observed.size).toBe(0);
        return;
      }
      const { writes, acked, cycle } = previous;
      const byKey = new Map<string, number[]>();
      writes.forEach((write, index) => {
        const list = byKey.get(write.key) ?? [];
        list.push(index);
        byKey.set(write.key, list);
      });
      let lastAckedIndex = -1;
      writes.forEach((write, index) => {
        if (acked.has(write.msgId)) lastAckedIndex = index;
      });
      const problems: string[] = [];
      // Feasible prefix cuts: the node writes one log, so what survives should be the first c writes for some c >= lastAckedIndex + 1.
      const feasible = new Array<boolean>(writes.length + 1).fill(true);
      for (let c = 0; c <= lastAckedIndex; c++) feasible[c] = false;
      for (const key of new Set([...observed.keys(), ...model.keys(), ...byKey.keys()])) {
        const indices = byKey.get(key) ?? [];
        const got = observed.has(key) ? observed.get(key) : undefined;
        const show = (value: unknown): string => (value === undefined ? 'absent' : JSON.stringify(value));
        const valueOf = (index: number): unknown => (index < 0 ? model.get(key) : (writes[index].value ?? undefined));
        // The latest acknowledged write to the key, or (none in this cycle) what the last restart observed.
        let baseline = -1;
        for (const index of indices) if (acked.has(writes[index].msgId)) baseline = index;
        const allowed = [baseline, ...indices.filter((index) => index > baseline)];
        totals.keysChecked++;
        if (baseline >= 0) totals.ackedKeysChecked++;
        const match = allowed.find((index) => valueOf(index) === got || (valueOf(index) === undefined && got === undefined));
        if (match === undefined) {
          const older = indices.filter((index) => index < baseline).find((index) => valueOf(index) === got);
          const what = older !== undefined ? `an OLDER write (msg_id ${writes[older].msgId})` : got === model.get(key) ? 'the value before this cycle' : 'a value never written to it';
          problems.push(
            `${key}: found ${show(got)} (${what}); latest acknowledged: ${show(valueOf(baseline))}` +
              (baseline >= 0 ? ` (msg_id ${writes[baseline].msgId})` : ' (from the previous restart)') +
              `; later unacknowledged: ${indices.filter((index) => index > baseline).map((index) => show(valueOf(index))).join(', ') || 'none'}`,
          );
          continue;
        }
        if (match > baseline) totals.indefiniteSurvived++;
        // Cuts c under which the key holds what was observed: c in (p_j, p_{j+1}] for each matching write p_j.
        const positions = [-1, ...indices];
        const keyFeasible = new Array<boolean>(writes.length + 1).fill(false);
        positions.forEach((position, j) => {
          const value = valueOf(position);
          if (!(value === got || (value === undefined && got === undefined))) return;
          const next = positions[j + 1] ?? writes.length;
          for (let c = position + 1; c <= next; c++) keyFeasible[c] = true;
        });
        for (let c = 0; c <= writes.length; c++) feasible[c] &&= keyFeasible[c];
      }
      expect(problems.slice(0, 10), `cycle ${cycle}: ${problems.length} keys lost or show stale acknowledged writes (seed ${SEED}); the first 10`).toEqual([]);
      expect(
        feasible.some(Boolean),
        `cycle ${cycle}: the state after the restart is not a prefix of the write sequence (seed ${SEED})`,
      ).toBe(true);
    };

    let interruptedRecoveries = 0;
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      const last = cycle === CYCLES;
      if (cycle > 0 && random() < 0.35) {
        // A crash during recovery (replay, torn-tail cut, flushes of the replayed MemTables) must change nothing.
        await withNode(dataDir, { args }, async (node) => {
          node.send(init());
          const ms = int(0, 60);
          await sleep(ms);
          interruptedRecoveries++;
        });
      }
      await withNode(dataDir, { args }, async (node) => {
        expect(await node.init(1, 30_000)).toMatchObject({ type: 'init_ok' });
        const observed = await scanAll(node, 2);
        // Cross-check a few point reads against the scan (they read other layers the same way).
        for (let i = 0; i < 10; i++) {
          const key = keyName(int(0, KEYS - 1));
          const got = await node.call(500 + i, 'memtable_get', { key });
          expect(got.type).toBe('memtable_get_ok');
          expect(got.found ? got.value : undefined, `get ${key} agrees with the scan`).toEqual(observed.get(key));
        }
        check(observed);
        model = observed;
        if (last) {
          expect(await node.end()).toBe(0);
          return;
        }

        // A burst: mostly puts, some deletes, a few sstable_flush and lsm_compact, all pipelined.
        const writes: Write[] = [];
        const flushes: number[] = [];
        const requests: Envelope[] = [];
        const total = int(1500, 3000);
        for (let i = 0; i < total; i++) {
          const msgId = 1000 + i;
          if (random() < 0.01) {
            flushes.push(msgId);
            requests.push(request(msgId, 'sstable_flush'));
            continue;
          }
          if (random() < 0.004) {
            // A whole-range compaction too, killed part way sometimes.
            flushes.push(msgId);
            requests.push(request(msgId, 'lsm_compact'));
            continue;
          }
          const key = keyName(int(0, KEYS - 1));
          if (random() < 0.12) {
            writes.push({ msgId, key, value: null });
            requests.push(request(msgId, 'memtable_delete', { key }));
          } else {
            const value = `c${cycle}-w${i}-${'x'.repeat(int(0, 40))}`;
            writes.push({ msgId, key, value });
            requests.push(request(msgId, 'memtable_put', { key, value }));
          }
        }
        const sent = Date.now();
        const before = node.replies.size;
        node.send(...requests);
        // Kill after a random number of replies (sometimes only after all of them, with flushes still running), or after a random few ms.
        let how: string;
        if (random() < 0.6) {
          const target = int(1, Math.floor(total * 1.15));
          await node.until(() => (node.replies.size - before >= Math.min(target, total) ? true : undefined), `${target} replies`, 30_000);
          if (target >= total) await sleep(int(0, 30));
          how = `after ${target >= total ? `all replies + a few ms` : `${target} replies`}`;
        } else {
          const ms = int(1, 200);
          await sleep(ms);
          how = `after ${ms} ms`;
        }
        await node.kill();

        // Replies leave in request order: what arrived is a prefix, each of the expected type.
        const order = node.replyOrder.slice(before);
        expect(order).toEqual(requests.slice(0, order.length).map((r) => r.body.msg_id));
        const acked = new Set<number>();
        for (const r of requests.slice(0, order.length)) {
          const body = node.replies.get(r.body.msg_id as number)!;
          expect(body.type, JSON.stringify(body)).toBe(`${r.body.type}_ok`);
          if (r.body.type === 'sstable_flush' || r.body.type === 'lsm_compact') totals.flushesAcked++;
          else acked.add(r.body.msg_id as number);
        }
        totals.acked += acked.size;
        totals.indefinite += writes.length - acked.size;
        console.log(
          `cycle ${cycle}: ${writes.length} writes + ${flushes.length} flushes sent, killed ${how} (${Date.now() - sent} ms): ${acked.size} acknowledged`,
        );
        previous = { writes, acked, cycle };
      });
    }
    console.log(
      `kill -9 cycles: ${totals.acked} acknowledged writes (${totals.flushesAcked} sstable_flush acks) over ${CYCLES} cycles; ` +
        `${totals.keysChecked} key checks, ${totals.ackedKeysChecked} against a write acknowledged in that cycle; ` +
        `${totals.indefinite} writes indefinite, ${totals.indefiniteSurvived} keys showed an unacknowledged write; ` +
        `${interruptedRecoveries} recoveries killed part way`,
    );
    expect(totals.acked).toBeGreaterThan(0);
  }, 60_000);
});

describe('WAL damage', () => {
  it.each([
    ['the first 7 bytes of a record header', (valid: Buffer): Buffer => valid.subarray(0, 7)],
    ['a whole header promising more payload than there is', (valid: Buffer): Buffer => Buffer.concat([valid.subarray(0, WAL_HEADER), Buffer.from('par')])],
    ['64 random bytes', (): Buffer => Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 167 + SEED) & 0xff))],
    ['4 KiB of zeros', (): Buffer => Buffer.alloc(4096)],
  ])('cuts off a torn tail (%s): acknowledged writes kept, later writes not lost behind it', async (_name, tail) => {
    const dataDir = freshDir();
    const nodeDir = join(dataDir, 'n1');
    const first = Array.from({ length: 40 }, (_, i) => ({ key: `a${i}`, value: { n: i, text: 'first session' } }));
    const second = Array.from({ length: 40 }, (_, i) => ({ key: i % 2 === 0 ? `a${i}` : `b${i}`, value: `second session ${i}` }));

    await withNode(dataDir, {}, async (node) => {
      await node.init();
      first.forEach(({ key, value }, i) => node.send(request(10 + i, 'memtable_put', { key, value })));
      for (let i = 0; i < first.length; i++) expect(await node.reply(10 + i)).toMatchObject({ type: 'memtable_put_ok' });
    });

    const segments = walFiles(nodeDir);
    expect(segments.length).toBeGreaterThan(0);
    const newest = join(nodeDir, segments[segments.length - 1]);
    const validLength = statSync(newest).size;
    expect(validLength).toBeGreaterThan(0);
    appendFileSync(newest, tail(readFileSync(newest)));
    const tornBytes = statSync(newest).size - validLength;

    await withNode(dataDir, {}, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      const state = await scanAll(node, 2);
      for (const { key, value } of first) expect(state.get(key), key).toEqual(value);
      expect(state.size).toBe(first.length);
      const warns = node.logs().filter((log) => log.level === 40 && /torn tail/.test(log.msg));
      expect(warns).toHaveLength(1);
      expect(warns[0]).toMatchObject({ file: segments[segments.length - 1], valid_bytes: validLength, torn_bytes: tornBytes });
      // The garbage is gone from disk (cut off, or the whole segment flushed and removed).
      for (const name of walFiles(nodeDir)) {
        const bytes = readFileSync(join(nodeDir, name));
        walRecordOffsets(bytes);
      }
      second.forEach(({ key, value }, i) => node.send(request(100 + i, 'memtable_put', { key, value })));
      for (let i = 0; i < second.length; i++) expect(await node.reply(100 + i)).toMatchObject({ type: 'memtable_put_ok' });
    });

    await withNode(dataDir, {}, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      const state = await scanAll(node, 2);
      const expected = new Map<string, unknown>(first.map(({ key, value }) => [key, value]));
      for (const { key, value } of second) expected.set(key, value);
      expect(Object.fromEntries(state)).toEqual(Object.fromEntries(expected));
      expect(node.logs().filter((log) => log.level >= 40 && log.msg !== 'fault injection enabled')).toEqual([]);
      expect(await node.end()).toBe(0);
    });
  });

  it('refuses to open (13) when a record in the middle of a segment is damaged, keeps the file, and stays up', async () => {
    const dataDir = freshDir();
    const nodeDir = join(dataDir, 'n1');
    await withNode(dataDir, {}, async (node) => {
      await node.init();
      for (let i = 0; i < 10; i++) node.send(request(10 + i, 'memtable_put', { key: `k${i}`, value: `value number ${i}` }));
      for (let i = 0; i < 10; i++) expect(await node.reply(10 + i)).toMatchObject({ type: 'memtable_put_ok' });
    });
    const [segment] = walFiles(nodeDir);
    const path = join(nodeDir, segment);
    const bytes = readFileSync(path);
    const offsets = walRecordOffsets(bytes);
    expect(offsets).toHaveLength(10);
    bytes[payloadAt(offsets[2]) + 6] ^= 0x20; // inside the third record's payload (its key)
    writeFileSync(path, bytes);

    await withNode(dataDir, {}, async (node) => {
      const reply = await node.init();
      expect(reply).toMatchObject({ type: 'error', code: 13 });
      expect(node.logs().some((log) => log.level === 50)).toBe(true);
      expect(await node.call(2, 'memtable_get', { key: 'k0' })).toMatchObject({ type: 'error', code: 11 });
      expect(await node.end()).toBe(0);
    });
    // Nothing was "repaired" away: the damaged segment is still there, byte for byte.
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('treats a damaged last record of a segment that a newer segment follows as damage, not a torn tail: never an older value', async () => {
    // Commits write older segments first and stop at the first failure, so records in a newer
    // segment imply that every older segment was whole: its last record was acknowledged.
    const dataDir = freshDir();
    const nodeDir = join(dataDir, 'n1');
    const planFile = join(freshDir(), 'plan.json');
    setPlan(planFile, { createWritable: 'ENOSPC' }); // no flush completes, so every segment stays on disk
    const args = ['--memtable-max-bytes', '1024', '--max-immutable', '4'];
    const newValue = `new-${'n'.repeat(1100)}`;
    await withNode(dataDir, { args, env: { MEMTABLE_FAULT_FILE: planFile } }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      node.send(request(10, 'memtable_put', { key: 'K', value: 'old' }));
      for (let i = 0; i < 5; i++) node.send(request(11 + i, 'memtable_put', { key: `f${i}`, value: i }));
      node.send(request(20, 'memtable_put', { key: 'K', value: newValue })); // the last record of segment 1: it freezes the MemTable
      node.send(request(21, 'memtable_put', { key: 'other', value: 1 })); // segment 2
      for (const msgId of [10, 11, 12, 13, 14, 15, 21]) expect(await node.reply(msgId)).toMatchObject({ type: 'memtable_put_ok' });
      expect(await node.reply(20)).toMatchObject({ type: 'memtable_put_ok', frozen: true });
    });
    const segments = walFiles(nodeDir);
    expect(segments).toEqual(['000001.wal', '000002.wal']);
    const path = join(nodeDir, segments[0]);
    const bytes = readFileSync(path);
    const offsets = walRecordOffsets(bytes);
    expect(offsets).toHaveLength(7);
    bytes[payloadAt(offsets[6]) + 4 + 1 + 20] ^= 0x01; // inside the acknowledged K = new... value
    writeFileSync(path, bytes);

    await withNode(dataDir, { args }, async (node) => {
      const opened = await node.init();
      const k = opened.type === 'init_ok' ? await node.call(2, 'memtable_get', { key: 'K' }) : undefined;
      const outcome = {
        init: opened.type === 'error' ? opened.code : opened.type,
        K: k === undefined ? 'not read' : k.value === newValue ? 'the acknowledged value' : k.value,
        segment1: `${readFileSync(path).length} of ${bytes.length} bytes left`,
      };
      // Expected: error 13 as for damage in the middle (docs/WAL.md); what must never happen is init_ok with K = "old".
      expect(outcome, 'a damaged acknowledged record in an older segment was silently dropped').toEqual({
        init: 13,
        K: 'not read',
        segment1: `${bytes.length} of ${bytes.length} bytes left`,
      });
      expect(await node.end()).toBe(0);
    });
  });

  it('treats a torn last record as a torn tail even when its key bytes spell a whole valid record', async () => {
    // A key may hold any characters, U+0000 included; its UTF-8 bytes go into the record as they are.
    // Build a whole DELETE record whose every byte is ASCII, so it can sit inside a key. The header's
    // checksum depends only on (length, kind): pick a length whose header is ASCII, then vary the payload.
    // Bounded loops: this runs synchronously, where no test timeout could stop it.
    let inner: Buffer | undefined;
    search: for (let length = 8; length < 200; length++) {
      if (!encodeWalRecord(2, Buffer.alloc(length, 0x61)).subarray(0, 9).every((byte) => byte < 0x80)) continue;
      for (let n = 0; n < 20_000; n++) {
        const record = encodeWalRecord(2, Buffer.from(String(n).padStart(length, 'p'), 'ascii'));
        if (record.every((byte) => byte < 0x80)) {
          inner = record;
          break search;
        }
      }
    }
    if (inner === undefined) throw new Error('found no WAL record made of ASCII bytes only');
    const evilKey = `x${inner.toString('latin1')}${'y'.repeat(40)}`;
    const dataDir = freshDir();
    const nodeDir = join(dataDir, 'n1');
    await withNode(dataDir, {}, async (node) => {
      await node.init();
      for (let i = 0; i < 5; i++) node.send(request(10 + i, 'memtable_put', { key: `a${i}`, value: i }));
      node.send(request(20, 'memtable_put', { key: evilKey, value: 'v' }));
      for (const msgId of [10, 11, 12, 13, 14, 20]) expect(await node.reply(msgId)).toMatchObject({ type: 'memtable_put_ok' });
    });
    // The file as a crash in the middle of writing the last record leaves it: cut inside that record's key, after the look-alike.
    const [segment] = walFiles(nodeDir);
    const path = join(nodeDir, segment);
    const written = readFileSync(path);
    const offsets = walRecordOffsets(written);
    expect(offsets).toHaveLength(6);
    // This test's encoder writes what the node writes (so `inner` is a record the node would accept).
    expect(written.subarray(offsets[0], offsets[1]).equals(encodePut('a0', '0'))).toBe(true);
    expect(written.subarray(offsets[5]).equals(encodePut(evilKey, '"v"'))).toBe(true);
    const lastKeyStart = payloadAt(offsets[5]) + 4;
    truncateSync(path, lastKeyStart + 1 + inner.length + 10);

    await withNode(dataDir, {}, async (node) => {
      const opened = await node.init();
      expect(opened, `a crash mid-write must not make the store unopenable; stderr:\n${node.stderr.slice(-1500)}`).toMatchObject({ type: 'init_ok' });
      const state = await scanAll(node, 2);
      expect(Object.fromEntries(state)).toEqual({ a0: 0, a1: 1, a2: 2, a3: 3, a4: 4 });
      expect(node.logs().some((log) => log.level === 40 && /torn tail/.test(log.msg))).toBe(true);
      expect(await node.end()).toBe(0);
    });
  });
});

describe('damaged SSTable and MANIFEST', () => {
  const flushSome = async (dataDir: string): Promise<void> => {
    await withNode(dataDir, {}, async (node) => {
      await node.init();
      for (let i = 0; i < 200; i++) node.send(request(10 + i, 'memtable_put', { key: `key${i}`, value: `value ${i} `.repeat(5) }));
      node.send(request(500, 'sstable_flush'));
      expect(await node.reply(500)).toMatchObject({ type: 'sstable_flush_ok', sstable_file: 'L0_000001.sst', entries: 200 });
      expect(await node.end()).toBe(0);
    });
  };

  const expectInitFails = async (dataDir: string): Promise<void> => {
    await withNode(dataDir, {}, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'error', code: 13 });
      expect(node.logs().filter((log) => log.level === 50 && log.msg === 'store failed to open')).toHaveLength(1);
      expect(await node.call(2, 'memtable_get', { key: 'key1' })).toMatchObject({ type: 'error', code: 11 });
      expect(await node.end()).toBe(0);
    });
  };

  it('init answers 13 when a live SSTable is cut to half its size, and the node stays up', async () => {
    const dataDir = freshDir();
    await flushSome(dataDir);
    const sst = join(dataDir, 'n1', 'L0_000001.sst');
    truncateSync(sst, Math.floor(statSync(sst).size / 2));
    await expectInitFails(dataDir);
  });

  it('init answers 13 when one byte of the MANIFEST changes, and the node stays up', async () => {
    const dataDir = freshDir();
    await flushSome(dataDir);
    const manifest = join(dataDir, 'n1', readFileSync(join(dataDir, 'n1', 'CURRENT'), 'utf8').trim());
    const bytes = readFileSync(manifest);
    // In the last record (the flush's edit), which a damaged checksum makes corruption, not a torn tail.
    const at = bytes.lastIndexOf('L0_000001.sst') + 5; // '1' of the file number becomes '3': still a well-formed name
    bytes[at] ^= 0x02;
    writeFileSync(manifest, bytes);
    await expectInitFails(dataDir);
    // The SSTable named in the (damaged) MANIFEST must not have been deleted as debris.
    expect(readdirSync(join(dataDir, 'n1'))).toContain('L0_000001.sst');
  });
});

describe('injected file-system faults', () => {
  it.each([
    ['writeAtSync', 'ENOSPC', []],
    ['fdatasync', 'EIO', []],
    // MemTables freeze and flush (createWritable still works) while commits fail: pending records of a flushed MemTable are in its SSTable.
    ['writeAtSync', 'ENOSPC', ['--memtable-max-bytes', '700', '--max-immutable', '2']],
  ])('a WAL commit failing with %s %s (args %j) answers 13, loses nothing acknowledged, and heals', async (operation, code, args) => {
    const dataDir = freshDir();
    const planFile = join(freshDir(), 'plan.json'); // does not exist yet: no faults
    const expected = new Map<string, unknown>();
    const indefinite = new Map<string, unknown>();
    let acked = 0;
    await withNode(dataDir, { args, env: { MEMTABLE_FAULT_FILE: planFile } }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      for (let i = 0; i < 20; i++) node.send(request(10 + i, 'memtable_put', { key: `before${i}`, value: i }));
      for (let i = 0; i < 20; i++) {
        expect(await node.reply(10 + i)).toMatchObject({ type: 'memtable_put_ok' });
        expected.set(`before${i}`, i);
        acked++;
      }

      setPlan(planFile, { [operation]: code });
      for (let i = 0; i < 10; i++) node.send(request(100 + i, 'memtable_put', { key: `during${i}`, value: `d${i}` }));
      node.send(request(110, 'memtable_delete', { key: 'before0' }));
      node.send(request(111, 'memtable_get', { key: 'before1' }));
      for (let i = 0; i < 12; i++) expect(await node.reply(100 + i)).toMatchObject({ type: 'error', code: 13 });
      for (let i = 0; i < 10; i++) indefinite.set(`during${i}`, `d${i}`);
      // Still failing, still up: a read alone also waits on the failed commit and answers 13; stats need no WAL.
      expect(await node.call(120, 'memtable_get', { key: 'before2' })).toMatchObject({ type: 'error', code: 13 });
      expect(await node.call(121, 'memtable_stats')).toMatchObject({ type: 'memtable_stats_ok' });
      expect(node.logs().some((log) => log.level === 50 && /write-ahead log commit failed/.test(log.msg))).toBe(true);

      setPlan(planFile, {});
      for (let i = 0; i < 20; i++) node.send(request(200 + i, 'memtable_put', { key: `after${i}`, value: { i } }));
      for (let i = 0; i < 20; i++) {
        expect(await node.reply(200 + i)).toMatchObject({ type: 'memtable_put_ok' });
        expected.set(`after${i}`, { i });
        acked++;
      }
      for (let i = 0; i < 10; i++) {
        const got = await node.call(300 + i, 'memtable_get', { key: `during${i}` });
        expect(got.type).toBe('memtable_get_ok');
        if (got.found) expect(got.value).toBe(`d${i}`);
      }
      const before0 = await node.call(310, 'memtable_get', { key: 'before0' });
      expect(before0.found === false || before0.value === 0).toBe(true);
      if (!before0.found) expected.delete('before0'); // the delete survived and was then read: it is durable now
      expect(await node.call(311, 'memtable_get', { key: 'before5' })).toMatchObject({ found: true, value: 5 });
      expect(await node.call(312, 'memtable_get', { key: 'after7' })).toMatchObject({ found: true, value: { i: 7 } });
      // A read that answered after the heal reports only durable data: what it saw must survive the kill.
      for (let i = 0; i < 10; i++) {
        const got = node.replies.get(300 + i)!;
        if (got.found) expected.set(`during${i}`, got.value);
        indefinite.delete(`during${i}`);
      }
    });

    await withNode(dataDir, { args }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      const state = await scanAll(node, 2);
      for (const [key, value] of expected) expect(state.get(key), key).toEqual(value);
      for (const key of state.keys()) expect(expected.has(key) || indefinite.has(key), `unexpected key ${key}`).toBe(true);
      expect(state.has('before0')).toBe(expected.has('before0'));
      console.log(`WAL ${operation} ${code} ${args.join(' ')}: ${acked} acknowledged writes checked after the restart`);
      expect(await node.end()).toBe(0);
    });
  });

  it('a flush failing with ENOSPC stalls writes (none refused), retries with backoff, and catches up once the disk heals', async () => {
    const dataDir = freshDir();
    const planFile = join(freshDir(), 'plan.json');
    setPlan(planFile, { createWritable: 'ENOSPC' });
    const writes = 400;
    const value = (i: number): string => `v${i}-${'y'.repeat(30)}`;
    const key = (i: number): string => `key${String(i % 150).padStart(3, '0')}`;
    const expected = new Map<string, string>();
    await withNode(dataDir, { args: ['--memtable-max-bytes', '2048', '--max-immutable', '2'], env: { MEMTABLE_FAULT_FILE: planFile } }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      for (let i = 0; i < writes; i++) node.send(request(10 + i, 'memtable_put', { key: key(i), value: value(i) }));
      node.send(request(5000, 'memtable_stats'));
      const failures = await node.waitForLogs((log) => log.level === 50 && /^flush failed/.test(log.msg), 3, 'three failed flushes', 20_000);
      expect(failures.map((log) => log.retry_ms)).toEqual([100, 200, 400]);
      // Stalled, not refused: some writes answered, the rest wait; no error at all.
      const answered = node.replies.size - 1;
      expect(answered).toBeGreaterThan(0);
      expect(answered).toBeLessThan(writes);
      for (const body of node.replies.values()) expect(body.type).not.toBe('error');

      setPlan(planFile, {});
      const stats = await node.reply(5000, 30_000);
      expect(node.replyOrder).toEqual([1, ...Array.from({ length: writes }, (_, i) => 10 + i), 5000]);
      for (let i = 0; i < writes; i++) {
        expect(node.replies.get(10 + i)).toMatchObject({ type: 'memtable_put_ok' });
        expected.set(key(i), value(i));
      }
      expect(stats.type).toBe('memtable_stats_ok');
      for (const k of expected.keys()) node.send(request(6000 + Number(k.slice(3)), 'memtable_get', { key: k }));
      for (const [k, v] of expected) expect(await node.reply(6000 + Number(k.slice(3)))).toMatchObject({ found: true, value: v });
      // Eventually the frozen MemTables are on disk.
      let msgId = 7000;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const s = await node.call(msgId++, 'memtable_stats');
        if ((s.sstables as unknown[]).length > 0 && (s.immutable as unknown[]).length === 0) break;
        expect(Date.now(), `flushes caught up; last stats ${JSON.stringify(s)}`).toBeLessThan(deadline);
        await sleep(50); // polling: no reply announces the end of a background flush
      }
      expect(node.logs().some((log) => log.msg === 'flushed')).toBe(true);
    });

    await withNode(dataDir, { args: ['--memtable-max-bytes', '2048', '--max-immutable', '2'] }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      const state = await scanAll(node, 2);
      expect(Object.fromEntries(state)).toEqual(Object.fromEntries(expected));
      console.log(`flush ENOSPC: ${writes} acknowledged writes (${expected.size} keys) checked after the restart`);
      expect(await node.end()).toBe(0);
    });
  });
});

describe('--sync none', () => {
  it('survives a process kill -9: the OS has the bytes', async () => {
    const { int } = testRandom('sync none');
    const dataDir = freshDir();
    const args = ['--sync', 'none', ...SMALL];
    const expected = new Map<string, unknown>();
    const writes = int(300, 800);
    await withNode(dataDir, { args }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      const sent: Array<[string, string]> = [];
      for (let i = 0; i < writes; i++) {
        const key = `k${int(0, 99)}`;
        const value = `s${i}-${'z'.repeat(int(0, 60))}`;
        sent.push([key, value]);
        node.send(request(10 + i, 'memtable_put', { key, value }));
      }
      for (let i = 0; i < writes; i++) {
        expect(await node.reply(10 + i)).toMatchObject({ type: 'memtable_put_ok' });
        expected.set(...sent[i]);
      }
      // Killed with every reply in, background flushes possibly still running.
    });
    await withNode(dataDir, { args }, async (node) => {
      expect(await node.init()).toMatchObject({ type: 'init_ok' });
      const state = await scanAll(node, 2);
      expect(Object.fromEntries(state)).toEqual(Object.fromEntries(expected));
      console.log(`--sync none: ${writes} acknowledged writes (${expected.size} keys) checked after kill -9`);
      expect(await node.end()).toBe(0);
    });
  });
});

describe('the data-dir lock', () => {
  const lockFiles = (dataDir: string): string[] => readdirSync(join(dataDir, 'n1')).filter(isLockFileName);

  it("refuses (11) a second process's init on the same folder, naming the holder's pid; the holder goes on and loses nothing", async () => {
    const dataDir = freshDir();
    await withNode(dataDir, {}, async (holder) => {
      expect(await holder.init()).toMatchObject({ type: 'init_ok' });
      expect(await holder.call(2, 'write', { key: 'k', value: 1 })).toMatchObject({ type: 'write_ok' });
      await withNode(dataDir, {}, async (second) => {
        const refused = await second.init();
        expect(refused).toMatchObject({ type: 'error', code: 11 });
        expect(refused.text).toContain(`pid ${holder.child.pid}`);
        expect(await second.call(2, 'read', { key: 'k' })).toMatchObject({ type: 'error', code: 11 }); // still uninitialized
        expect(await second.end()).toBe(0);
      });
      expect(await holder.call(3, 'write', { key: 'k2', value: 2 })).toMatchObject({ type: 'write_ok' });
      expect(await holder.call(4, 'read', { key: 'k' })).toMatchObject({ type: 'read_ok', value: 1 });
      expect(lockFiles(dataDir)).toEqual([expect.stringMatching(new RegExp(`^LOCK\\.${holder.child.pid}\\.`))]);
      expect(await holder.end()).toBe(0);
    });
    expect(lockFiles(dataDir)).toEqual([]); // released at exit
    await withNode(dataDir, {}, async (next) => {
      expect(await next.init()).toMatchObject({ type: 'init_ok' });
      expect(await next.call(2, 'read', { key: 'k' })).toMatchObject({ type: 'read_ok', value: 1 });
      expect(await next.call(3, 'read', { key: 'k2' })).toMatchObject({ type: 'read_ok', value: 2 });
    });
  });

  it('takes over the lock of a holder killed with -9', async () => {
    const dataDir = freshDir();
    await withNode(dataDir, {}, async (holder) => {
      expect(await holder.init()).toMatchObject({ type: 'init_ok' });
      expect(await holder.call(2, 'write', { key: 'k', value: 'kept' })).toMatchObject({ type: 'write_ok' });
    }); // SIGKILL
    expect(lockFiles(dataDir)).toHaveLength(1);
    await withNode(dataDir, {}, async (next) => {
      expect(await next.init()).toMatchObject({ type: 'init_ok' });
      expect(await next.call(2, 'read', { key: 'k' })).toMatchObject({ type: 'read_ok', value: 'kept' });
      expect(lockFiles(dataDir)).toEqual([expect.stringMatching(new RegExp(`^LOCK\\.${next.child.pid}\\.`))]);
    });
  });
});
