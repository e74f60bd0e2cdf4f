/**
 * etcdlite/testing: a fake etcd for tests that they can seed, break, inspect and reset.
 * @packageDocumentation
 */
export { fakeEtcd, type FakeEtcd, type FakeEtcdOptions } from './fake-etcd.ts'
export type { Seed, SeedEntry, SeedLease } from './seed.ts'
export type { FakeTls, FakeTlsOptions } from './fake-tls.ts'
export type { FakeAuthOptions, FakePermission } from './fake-auth.ts'
export { Faults, FAULT_ERRORS, type Fault, type FaultError, type FaultRule, type FaultHandle } from './faults.ts'
export { RequestLog, type RecordedRequest } from './requests.ts'
export { etcd3Mock, type Etcd3Mock, type Etcd3MockOptions, type MockHost, type MockServiceClient, type Etcd3CallOptions } from './etcd3-mock.ts'
export { ManualClock, type Clock } from '../util/clock.ts'
