/**
 * Storage errors carry a stable string code and, where there is one, the
 * cause. Storage knows nothing of Maelstrom: the protocol edge maps codes.
 */

export type StorageErrorCode =
  | 'STORAGE_CORRUPTION' // a checksum or structural check failed
  | 'STORAGE_IO' // the file system refused (ENOSPC, EIO, ...)
  | 'STORAGE_LOCKED' // another process (or this one) has the store's folder open
  | 'STORAGE_UNKNOWN_SSTABLE'; // a named SSTable is not live

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

export function corruption(message: string, cause?: unknown): StorageError {
  return new StorageError('STORAGE_CORRUPTION', message, { cause });
}
