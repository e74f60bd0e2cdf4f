import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock, open } from '../../src/index.ts'
import { engineTarget, type Harness } from './harness.ts'
import { registerAll } from './suite.ts'

/** The disk engine (LevelDB, 'os' durability) runs the whole conformance suite, each test in a new directory. */
const disk: Harness = {
  name: 'disk',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'etcdlite-conf-'))
    const clock = new ManualClock()
    const engine = await open({ dir, durability: 'os', clock })
    const close = engine.close.bind(engine)
    return engineTarget(engine, clock, async () => {
      await close()
      rmSync(dir, { recursive: true, force: true })
    })
  },
  supports: { engineOnly: true, manualClock: true },
}

registerAll(disk)
