import { ManualClock, open } from '../../src/index.ts'
import { engineTarget, type Harness } from './harness.ts'
import { registerAll } from './suite.ts'

const memory: Harness = {
  name: 'memory',
  open: async () => {
    const clock = new ManualClock()
    const engine = await open({ clock })
    return engineTarget(engine, clock, engine.close.bind(engine))
  },
  supports: { engineOnly: true, manualClock: true },
}

registerAll(memory)
