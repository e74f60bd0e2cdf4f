/** How the tests of the testing kit read a client's failure: the etcd3 client's error, etcdctl's error line. */

/** failure runs `fn` and describes what it threw: the error's class and message. */
export async function failure(fn: () => Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await fn()
  } catch (err) {
    return { name: (err as Error).constructor.name, message: (err as Error).message }
  }
  throw new Error('expected a failure')
}

/** errorLine is etcdctl's "Error: ..." line. */
export function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('Error:')) ?? stderr
}
