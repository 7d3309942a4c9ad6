import { describe, expect, it } from 'vitest';
import { wrapWords } from '../src/textWrap.js';

describe('wrapWords', () => {
  it('fills lines up to the width, never splits a word, and lets a longer word stand alone', () => {
    expect(wrapWords('the quick brown fox jumps', 10)).toEqual(['the quick', 'brown fox', 'jumps']);
    expect(wrapWords('a extraordinarily b', 5)).toEqual(['a', 'extraordinarily', 'b']);
    expect(wrapWords('exactly ten', 11)).toEqual(['exactly ten']);
    for (const line of wrapWords('lorem ipsum dolor sit amet consectetur adipiscing elit sed do', 12)) expect(line.length).toBeLessThanOrEqual(12);
  });
});
