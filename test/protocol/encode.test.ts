import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntries, encodeMessage, encodeReply, errorBody, getReplyBody, writeReplyBody } from '../../src/protocol/encode.js';
import { ErrorCode, MaelstromError } from '../../src/protocol/errors.js';
import { RawJson } from '../../src/protocol/rawJson.js';

const plainStringify = (src: string, dest: string, body: Record<string, unknown>): string => JSON.stringify({ src, dest, body });

describe('encodeMessage', () => {
  it('property: equals JSON.stringify for plain bodies', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), (src, dest, body) => {
        expect(encodeMessage(src, dest, body)).toBe(plainStringify(src, dest, body));
      }),
      { numRuns: 500 },
    );
  });

  it('property: equals JSON.stringify for bodies with lone surrogates, undefined and non-JSON values', () => {
    const leaf = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.double(),
      fc.constant(undefined),
      fc.constant(() => 1),
      fc.constant(Symbol('s')),
      fc.date({ noInvalidDate: true }),
    );
    const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree')), fc.dictionary(fc.string(), tie('tree'))),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), tree), (body) => {
        expect(encodeMessage('n1', 'c1', body)).toBe(plainStringify('n1', 'c1', body));
      }),
      { numRuns: 150 },
    );
  });

  it('matches JSON.stringify on its special cases', () => {
    const body = {
      type: 'x',
      omitted: undefined,
      fn: () => 1,
      list: [undefined, () => 1, NaN, Infinity, -0, null],
      boxed: [new Number(1), new String('s'), new Boolean(false)],
      date: new Date(0),
      custom: { toJSON: (key: string) => ({ key }) },
      nested: [{ toJSON: (key: string) => key }],
    };
    expect(encodeMessage('n1', 'c1', body)).toBe(plainStringify('n1', 'c1', body));
  });

  it('throws on a cycle or a BigInt, as JSON.stringify does', () => {
    const cyclic: Record<string, unknown> = { type: 'x' };
    cyclic.self = { back: cyclic };
    expect(() => encodeMessage('n1', 'c1', cyclic)).toThrow(TypeError);
    expect(() => encodeMessage('n1', 'c1', { type: 'x', n: 1n })).toThrow(TypeError);
    const shared = { a: 1 };
    expect(encodeMessage('n1', 'c1', { type: 'x', p: shared, q: [shared] })).toBe(
      plainStringify('n1', 'c1', { type: 'x', p: shared, q: [shared] }),
    );
  });

  it('splices RawJson verbatim, also nested in arrays and objects', () => {
    const body = {
      type: 'memtable_scan_ok',
      msg_id: 3,
      in_reply_to: 5,
      entries: [
        { key: 'a', value: new RawJson('1.0') },
        { key: 'b', value: new RawJson('12345678901234567890') },
        { key: 'c', value: new RawJson('{"b":1, "a":2}') },
        { key: 'd', value: new RawJson('"\\u00e9"') },
      ],
      extra: [new RawJson('1e400')],
    };
    expect(encodeMessage('n1', 'c1', body)).toBe(
      '{"src":"n1","dest":"c1","body":{"type":"memtable_scan_ok","msg_id":3,"in_reply_to":5,"entries":[' +
        '{"key":"a","value":1.0},{"key":"b","value":12345678901234567890},{"key":"c","value":{"b":1, "a":2}},' +
        '{"key":"d","value":"\\u00e9"}],"extra":[1e400]}}',
    );
  });

  it('property: a spliced value reads back as the same JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, key) => {
        const text = JSON.stringify(value);
        const line = encodeMessage('n1', 'c1', { type: 'memtable_get_ok', value: new RawJson(text), key });
        expect(JSON.parse(line)).toEqual({ src: 'n1', dest: 'c1', body: { type: 'memtable_get_ok', value: JSON.parse(text), key } });
        expect(line).not.toContain('\n');
      }),
    );
  });
});

describe('encodeEntries', () => {
  it('property: the text JSON.stringify gives [{key, value}], with each value spliced as written', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: fc.string({ unit: 'binary' }), value: fc.jsonValue() })), (entries) => {
        const raw = entries.map(({ key, value }) => ({ key, value: JSON.stringify(value) }));
        expect(encodeEntries(raw).text).toBe(JSON.stringify(entries));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the text a value was written with (1.0 stays 1.0)', () => {
    expect(encodeEntries([{ key: 'a', value: '1.0' }]).text).toBe('[{"key":"a","value":1.0}]');
  });
});

describe('encodeReply', () => {
  it('equals encodeMessage of the body with msg_id and in_reply_to appended (property)', () => {
    const name = fc.stringMatching(/^[a-z_]{1,12}$/).filter((key) => key !== 'msg_id' && key !== 'in_reply_to');
    const member = fc.oneof(fc.jsonValue(), fc.jsonValue().map((value) => new RawJson(JSON.stringify(value))));
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.dictionary(name, member), fc.nat(), fc.option(fc.nat(), { nil: undefined }), (src, dest, body, msgId, inReplyTo) => {
        const expected = encodeMessage(src, dest, inReplyTo === undefined ? { ...body, msg_id: msgId } : { ...body, msg_id: msgId, in_reply_to: inReplyTo });
        expect(encodeReply(src, dest, body, msgId, inReplyTo)).toBe(expected);
      }),
    );
  });

  it('gives the same line for an encoded write or get body as for the object it stands for (property)', () => {
    const ids = fc.tuple(fc.string(), fc.string(), fc.nat(), fc.option(fc.nat(), { nil: undefined }));
    const optional = (value: string | undefined, name: string): Record<string, string> => (value === undefined ? {} : { [name]: value });
    fc.assert(
      fc.property(ids, fc.constantFrom('memtable_put_ok', 'memtable_delete_ok' as const), fc.nat(), fc.boolean(), ([src, dest, msgId, inReplyTo], type, sizeBytes, frozen) => {
        const object = { type, size_bytes: sizeBytes, ...(frozen ? { frozen: true } : {}) };
        expect(encodeReply(src, dest, writeReplyBody(type, sizeBytes, frozen), msgId, inReplyTo)).toBe(encodeReply(src, dest, object, msgId, inReplyTo));
      }),
    );
    const source = fc.constantFrom('memtable', 'immutable', 'sstable');
    fc.assert(
      fc.property(ids, fc.jsonValue(), fc.boolean(), source, fc.option(fc.string(), { nil: undefined }), fc.option(source, { nil: undefined }), ([src, dest, msgId, inReplyTo], value, found, from, sstableFile, deletedIn) => {
        const text = JSON.stringify(value);
        const object = { type: 'memtable_get_ok', value: new RawJson(text), found, source: from, ...optional(sstableFile, 'sstable_file'), ...optional(deletedIn, 'deleted_in') };
        expect(encodeReply(src, dest, getReplyBody(text, found, from, sstableFile, deletedIn), msgId, inReplyTo)).toBe(encodeReply(src, dest, object, msgId, inReplyTo));
      }),
    );
  });
});

describe('errorBody', () => {
  it('gives the Maelstrom error body', () => {
    expect(errorBody(new MaelstromError(ErrorCode.KeyDoesNotExist, 'no such key'))).toEqual({
      type: 'error',
      code: 20,
      text: 'no such key',
    });
  });
});
