import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, test, vi } from 'vitest'

/**
 * The README's code is a contract: every ```ts block runs as written. Each block is written to a scratch module
 * with `etcdlite` and `etcdlite/testing` pointing at the source, then imported; a block that throws fails its test.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const scratch = join(root, 'test', '.readme-blocks')

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** fixture is the README's Vitest fixture recipe (a ```ts fixture block): a test file of its own, run as it is. */
const fixture = /```ts fixture\n([\s\S]*?)```/.exec(readme)?.[1]

describe('README', () => {
  test('the fixture recipe is test/testing/fixture-recipe.test.ts, which runs as a test file', () => {
    const file = readFileSync(join(root, 'test', 'testing', 'fixture-recipe.test.ts'), 'utf8')
    expect(fixture).toBe(file.replace("from '../../src/testing/index.ts'", "from 'etcdlite/testing'"))
  })

  test('has code blocks to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3)
  })

  test.each(blocks.map((code, i) => [i + 1, code] as const))('block %i runs as written', async (i, code) => {
    mkdirSync(scratch, { recursive: true })
    const file = join(scratch, `block-${i}.ts`)
    const source = code
      .replaceAll("from 'etcdlite'", `from ${JSON.stringify(join(root, 'src', 'index.ts'))}`)
      .replaceAll("from 'etcdlite/testing'", `from ${JSON.stringify(join(root, 'src', 'testing', 'index.ts'))}`)
    writeFileSync(file, source)
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    try {
      await import(pathToFileURL(file).href)
      expect(log).toHaveBeenCalled()
    } finally {
      log.mockRestore()
    }
  })
})
