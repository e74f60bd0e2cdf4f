/** Small helpers of the etcd3-level tests: waiting for a condition, and reading what a call threw. */

/** waitFor polls `check` until it holds, for at most `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: the condition never held')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** failure runs `fn` and describes what it threw: the error's class and message. */
export async function failure(fn: () => Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await fn()
  } catch (err) {
    return { name: (err as Error).constructor.name, message: (err as Error).message }
  }
  throw new Error('expected a failure')
}
