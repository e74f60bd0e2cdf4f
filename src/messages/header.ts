/** ResponseHeader heads every answer of every service, as etcd's does. */
export interface ResponseHeader {
  clusterId: bigint
  memberId: bigint
  /** revision is the store's revision when the request was served. */
  revision: number
  raftTerm: number
}
