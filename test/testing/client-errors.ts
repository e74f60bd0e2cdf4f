/** How the tests of the testing kit read etcdctl's failure (an etcd3 client's: `failure` in test/support/waiting.ts). */

/** errorLine is etcdctl's "Error: ..." line. */
export function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('Error:')) ?? stderr
}
