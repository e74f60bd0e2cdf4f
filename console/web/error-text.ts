import { EtcdRequestError } from './etcd-client.ts'

/** errorText is what the page shows for a failure: etcd's own message for a refused request. */
export function errorText(err: unknown): string {
  if (err instanceof EtcdRequestError) return err.message
  return err instanceof Error ? err.message : String(err)
}
