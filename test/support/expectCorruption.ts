import { expect } from 'vitest';
import { StorageError } from '../../src/storage/errors.js';

/** Runs `fn` and expects it to throw STORAGE_CORRUPTION, with a message matching `message` if given. */
export function expectCorruption(fn: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected STORAGE_CORRUPTION').toBeInstanceOf(StorageError);
  expect((caught as StorageError).code).toBe('STORAGE_CORRUPTION');
  if (message !== undefined) expect((caught as StorageError).message).toMatch(message);
}
