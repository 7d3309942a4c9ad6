import { describe, expect, it } from 'vitest';
import { type Envelope, parseEnvelope } from '../../src/protocol/envelope.js';
import { MaelstromError } from '../../src/protocol/errors.js';
import { RawJson } from '../../src/protocol/rawJson.js';
import { parseRequest } from '../../src/protocol/requests.js';

/** Builds an envelope from body JSON text, as the wire would carry it. */
function envelope(bodyText: string): Envelope {
  const parsed = parseEnvelope(`{"src":"c1","dest":"n1","body":${bodyText}}`);
  if ('malformed' in parsed) throw new Error(`test envelope malformed: ${parsed.malformed}`);
  return parsed;
}

function parse(bodyText: string): unknown {
  return parseRequest(envelope(bodyText));
}

function failure(bodyText: string): MaelstromError {
  try {
    parse(bodyText);
  } catch (error) {
    expect(error).toBeInstanceOf(MaelstromError);
    return error as MaelstromError;
  }
  throw new Error(`expected ${bodyText} to be rejected`);
}

describe('parseRequest: valid requests of every type', () => {
  it.each<[string, unknown]>([
    ['{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2"]}', { type: 'init', nodeId: 'n1', nodeIds: ['n1', 'n2'] }],
    ['{"type":"memtable_put","key":"k","value":1.0}', { type: 'memtable_put', key: 'k', value: new RawJson('1.0') }],
    ['{"type":"memtable_put","key":"k","value":null}', { type: 'memtable_put', key: 'k', value: new RawJson('null') }],
    ['{"type":"memtable_put","key":"","value":{"b":1, "a":2}}', { type: 'memtable_put', key: '', value: new RawJson('{"b":1, "a":2}') }],
    ['{"type":"memtable_put","key":"😀","value":"\\u00e9"}', { type: 'memtable_put', key: '😀', value: new RawJson('"\\u00e9"') }],
    ['{"type":"memtable_get","key":"k"}', { type: 'memtable_get', key: 'k' }],
    ['{"type":"memtable_delete","key":"k"}', { type: 'memtable_delete', key: 'k' }],
    ['{"type":"memtable_scan"}', { type: 'memtable_scan' }],
    ['{"type":"memtable_scan","start":null,"end":null,"limit":null}', { type: 'memtable_scan' }],
    ['{"type":"memtable_scan","start":"a","end":"b","limit":3}', { type: 'memtable_scan', start: 'a', end: 'b', limit: 3 }],
    ['{"type":"memtable_stats"}', { type: 'memtable_stats' }],
    ['{"type":"sstable_flush","msg_id":0}', { type: 'sstable_flush' }],
    ['{"type":"sstable_lookup","sstable":"L0_000001.sst","key":"k"}', { type: 'sstable_lookup', sstable: 'L0_000001.sst', key: 'k' }],
    ['{"type":"lsm_level_info"}', { type: 'lsm_level_info', files: false }],
    ['{"type":"lsm_level_info","files":true}', { type: 'lsm_level_info', files: true }],
    ['{"type":"lsm_read","key":"k"}', { type: 'lsm_read', key: 'k' }],
    ['{"type":"lsm_compact"}', { type: 'lsm_compact' }],
    ['{"type":"lsm_compact","source_level":null,"target_level":null}', { type: 'lsm_compact' }],
    ['{"type":"lsm_compact","source_level":0,"target_level":1}', { type: 'lsm_compact', sourceLevel: 0, targetLevel: 1 }],
    ['{"type":"lsm_compact","source_level":5,"target_level":6}', { type: 'lsm_compact', sourceLevel: 5, targetLevel: 6 }],
    ['{"type":"lsm_compact","source_level":2}', { type: 'lsm_compact', sourceLevel: 2, targetLevel: 3 }],
    ['{"type":"lsm_compact","target_level":2}', { type: 'lsm_compact', sourceLevel: 1, targetLevel: 2 }],
    ['{"type":"lsm_compact_status"}', { type: 'lsm_compact_status' }],
    ['{"type":"read","key":5}', { type: 'read', key: 5 }],
    ['{"type":"read","key":"five"}', { type: 'read', key: 'five' }],
    ['{"type":"write","key":5,"value":12345678901234567890}', { type: 'write', key: 5, value: new RawJson('12345678901234567890') }],
    ['{"type":"cas","key":5,"from":1,"to":2}', { type: 'cas', key: 5, from: new RawJson('1'), to: new RawJson('2'), createIfNotExists: false }],
    [
      '{"type":"cas","key":5,"from":null,"to":[1e400],"create_if_not_exists":true}',
      { type: 'cas', key: 5, from: new RawJson('null'), to: new RawJson('[1e400]'), createIfNotExists: true },
    ],
  ])('%s', (bodyText, expected) => {
    expect(parse(bodyText)).toEqual(expected);
  });

  it('takes the raw value of the last duplicate, matching the parsed body', () => {
    const request = parse('{"type":"memtable_put","key":"k","value":1,"value":2.50}') as { value: RawJson };
    expect(request.value.text).toBe('2.50');
  });
});

describe('parseRequest: errors', () => {
  it('answers 10 for an unknown type', () => {
    const error = failure('{"type":"echo","msg_id":1}');
    expect(error.code).toBe(10);
    expect(error.message).toContain('echo');
  });

  it.each([
    ['{"type":"memtable_put","value":1}', 'key'],
    ['{"type":"memtable_put","key":7,"value":1}', 'key'],
    ['{"type":"memtable_get","key":null}', 'key'],
    ['{"type":"memtable_get","key":["a"]}', 'key'],
    ['{"type":"memtable_delete"}', 'key'],
    ['{"type":"memtable_get","key":"\\ud800"}', 'key contains a lone surrogate'],
    ['{"type":"memtable_put","key":"a\\udc00b","value":1}', 'key contains a lone surrogate'],
    ['{"type":"memtable_put","key":"k"}', 'value is missing'],
    ['{"type":"memtable_scan","start":1}', 'start'],
    ['{"type":"memtable_scan","end":"\\udfff"}', 'end contains a lone surrogate'],
    ['{"type":"memtable_scan","limit":0}', 'limit'],
    ['{"type":"memtable_scan","limit":-1}', 'limit'],
    ['{"type":"memtable_scan","limit":1.5}', 'limit'],
    ['{"type":"memtable_scan","limit":"10"}', 'limit'],
    ['{"type":"memtable_scan","limit":1e300}', 'limit'],
    ['{"type":"memtable_scan","limit":true}', 'limit'],
    ['{"type":"sstable_lookup","key":"k"}', 'sstable'],
    ['{"type":"sstable_lookup","sstable":"L0_000001.sst","key":"\\ud83d"}', 'key contains a lone surrogate'],
    ['{"type":"init","node_ids":["n1"]}', 'node_id'],
    ['{"type":"init","node_id":"n1"}', 'node_ids'],
    ['{"type":"init","node_id":"n1","node_ids":["n1",2]}', 'node_ids'],
    ['{"type":"read"}', 'key'],
    ['{"type":"read","key":1.5}', 'key'],
    ['{"type":"read","key":true}', 'key'],
    ['{"type":"write","key":1}', 'value is missing'],
    ['{"type":"cas","key":1,"to":2}', 'from is missing'],
    ['{"type":"cas","key":1,"from":2}', 'to is missing'],
    ['{"type":"cas","key":1,"from":1,"to":2,"create_if_not_exists":"yes"}', 'create_if_not_exists'],
    ['{"type":"memtable_get","key":"k","msg_id":-3}', 'msg_id'],
    ['{"type":"lsm_level_info","files":"yes"}', 'files'],
    ['{"type":"lsm_read"}', 'key'],
    ['{"type":"lsm_compact","source_level":0,"target_level":2}', 'target_level must be source_level + 1'],
    ['{"type":"lsm_compact","source_level":1,"target_level":1}', 'target_level must be source_level + 1'],
    ['{"type":"lsm_compact","source_level":6,"target_level":7}', 'source_level must be an integer from 0 to 5'],
    ['{"type":"lsm_compact","source_level":-1,"target_level":0}', 'source_level'],
    ['{"type":"lsm_compact","source_level":1.5}', 'source_level'],
    ['{"type":"lsm_compact","target_level":"1"}', 'target_level'],
    ['{"type":"lsm_compact","target_level":0}', 'target_level 0 has no level above it'],
  ])('answers 12 for %s, naming %s', (bodyText, named) => {
    const error = failure(bodyText);
    expect(error.code).toBe(12);
    expect(error.message).toContain(named);
  });

  it('keeps error texts short for huge bad values', () => {
    const error = failure(`{"type":"memtable_get","key":${JSON.stringify([`${'x'.repeat(100000)}`])}}`);
    expect(error.message.length).toBeLessThan(100);
  });
});
