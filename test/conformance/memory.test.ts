import { ManualClock, open } from '../../src/index.ts'
import type { Harness } from './harness.ts'
import { registerAll } from './suite.ts'

const memory: Harness = {
  name: 'memory',
  open: async () => {
    const clock = new ManualClock()
    return Object.assign(await open({ clock }), { clock })
  },
  supports: { engineOnly: true, manualClock: true },
}

registerAll(memory)
