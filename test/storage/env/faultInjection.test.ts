/** The fault plan: operations fail on command, optionally only on paths a pattern matches. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultInjectingFileSystem, type FaultPlan } from '../../../src/storage/env/faultInjection.js';
import { nodeFileSystem } from '../../../src/storage/env/fileSystem.js';
import { useTempDirs } from '../../support/tempDirs.js';

const freshDir = useTempDirs('fault-injection');

describe('faultInjectingFileSystem', () => {
  it('fails the planned operation with the planned code, and nothing else', async () => {
    const dir = freshDir();
    let plan: FaultPlan = { createWritable: 'ENOSPC' };
    const fs = faultInjectingFileSystem(nodeFileSystem, () => plan);
    await expect(fs.createWritable(join(dir, 'a'))).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(fs.readdir(dir)).resolves.toEqual([]);
    plan = {};
    const file = await fs.createWritable(join(dir, 'a'));
    // A fault switched on later fails the writes of a file opened before it.
    plan = { createWritable: 'EIO' };
    await expect(file.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EIO' });
    await file.close();
  });

  it('with `paths`, fails only calls on paths the pattern matches', async () => {
    const dir = freshDir();
    const fs = faultInjectingFileSystem(nodeFileSystem, () => ({ createWritable: 'ENOSPC', rename: 'EIO', paths: '/L[1-6]_' }));
    await expect(fs.createWritable(join(dir, 'L2_000007.sst.tmp'))).rejects.toMatchObject({ code: 'ENOSPC' });
    const flush = await fs.createWritable(join(dir, 'L0_000008.sst.tmp'));
    await flush.write(Buffer.from('x'));
    await flush.close();
    await expect(fs.rename(join(dir, 'L0_000008.sst.tmp'), join(dir, 'L0_000008.sst'))).resolves.toBeUndefined();
    await expect(fs.rename(join(dir, 'L1_000009.sst.tmp'), join(dir, 'L1_000009.sst'))).rejects.toMatchObject({ code: 'EIO' });
  });
});
