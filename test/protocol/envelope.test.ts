import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../src/protocol/envelope.js';

describe('parseEnvelope', () => {
  it('keeps a valid message and its raw line', () => {
    const line = '{"src":"c1","dest":"n1","body":{"type":"memtable_get","msg_id":7,"key":"k"}}';
    const parsed = parseEnvelope(line);
    expect(parsed).toEqual({ src: 'c1', dest: 'n1', body: { type: 'memtable_get', msg_id: 7, key: 'k' }, line });
  });

  it('accepts a body without msg_id (nothing to echo) and msg_id 0', () => {
    expect(parseEnvelope('{"src":"c","dest":"n","body":{"type":"x"}}')).not.toHaveProperty('malformed');
    expect(parseEnvelope('{"src":"c","dest":"n","body":{"type":"x","msg_id":0}}')).not.toHaveProperty('malformed');
  });

  it.each([
    ['garbage', 'hello world', /not JSON/],
    ['truncated JSON', '{"src":"c1","dest":"n1","body":{"type"', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['a JSON string', '"src"', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['a number', '42', /not a JSON object/],
    ['missing src', '{"dest":"n1","body":{"type":"x"}}', /src/],
    ['numeric src', '{"src":1,"dest":"n1","body":{"type":"x"}}', /src/],
    ['missing dest', '{"src":"c1","body":{"type":"x"}}', /dest/],
    ['missing body', '{"src":"c1","dest":"n1"}', /body/],
    ['array body', '{"src":"c1","dest":"n1","body":[]}', /body/],
    ['null body', '{"src":"c1","dest":"n1","body":null}', /body/],
    ['missing type', '{"src":"c1","dest":"n1","body":{"msg_id":1}}', /type/],
    ['numeric type', '{"src":"c1","dest":"n1","body":{"type":3}}', /type/],
    ['string msg_id', '{"src":"c1","dest":"n1","body":{"type":"x","msg_id":"1"}}', /msg_id/],
    ['fractional msg_id', '{"src":"c1","dest":"n1","body":{"type":"x","msg_id":1.5}}', /msg_id/],
    ['huge msg_id', '{"src":"c1","dest":"n1","body":{"type":"x","msg_id":1e300}}', /msg_id/],
    ['null msg_id', '{"src":"c1","dest":"n1","body":{"type":"x","msg_id":null}}', /msg_id/],
  ])('rejects %s', (_name, line, reason) => {
    const parsed = parseEnvelope(line);
    expect(parsed).toHaveProperty('malformed');
    expect((parsed as { malformed: string }).malformed).toMatch(reason);
  });

  it('keeps a negative integer msg_id for request validation to answer 12', () => {
    const parsed = parseEnvelope('{"src":"c1","dest":"n1","body":{"type":"x","msg_id":-1}}');
    expect(parsed).toMatchObject({ body: { msg_id: -1 } });
  });
});
