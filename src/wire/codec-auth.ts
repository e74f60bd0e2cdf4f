import type {
  AuthenticateRequest,
  AuthenticateResponse,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserAddRequest,
  AuthUserGetResponse,
  AuthUserListResponse,
  Permission,
  PermissionArg,
  PermissionType,
} from '../messages/auth.ts'
import { header, request, type Codec } from './codec.ts'
import { messageCodec, type MessageRules } from './message-codec.ts'

/**
 * The codecs of etcd's Auth service (see codec.ts for the conventions). Several requests share one shape (a name, a
 * role): each such codec is compiled from one of the messages that have it. etcd's hashedPassword fields (for its
 * own clients that hash before sending) are not carried: etcdlite hashes what it is given.
 */

const PERMISSION_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE']

const NO_HASHED_PASSWORD: MessageRules = { request: 'the request', skip: ['hashedPassword'] }

export const authenticateRequest = messageCodec<AuthenticateRequest>('etcdserverpb.AuthenticateRequest', { request: 'the request' })
export const nameRequest = messageCodec<{ name: string }>('etcdserverpb.AuthUserGetRequest', { request: 'the request' })
export const roleRequest = messageCodec<{ role: string }>('etcdserverpb.AuthRoleGetRequest', { request: 'the request' })
export const changePasswordRequest = messageCodec<{ name: string; password: string }>('etcdserverpb.AuthUserChangePasswordRequest', NO_HASHED_PASSWORD)
export const grantRoleRequest = messageCodec<{ user: string; role: string }>('etcdserverpb.AuthUserGrantRoleRequest', { request: 'the request' })
export const revokeRoleRequest = messageCodec<{ name: string; role: string }>('etcdserverpb.AuthUserRevokeRoleRequest', { request: 'the request' })

const userAddOptions = messageCodec<{ noPassword: boolean }>('authpb.UserAddOptions', { request: 'options' })

export const userAddRequest = messageCodec<AuthUserAddRequest>('etcdserverpb.AuthUserAddRequest', {
  ...NO_HASHED_PASSWORD,
  messages: { options: userAddOptions },
})

/** permission: a permission's type must be named when it is given (no silent READ for a typo or a missing one). */
const permission = messageCodec<Permission>('authpb.Permission', {
  request: 'perm',
  hooks: {
    permType: {
      toWire(v) {
        const type = PERMISSION_TYPES.indexOf(v as PermissionType)
        if (type < 0) throw new TypeError(`permType must be one of ${PERMISSION_TYPES.join(', ')}`)
        return type === 0 ? undefined : type
      },
    },
  },
})

export const grantPermissionRequest: Codec<{ name: string; perm: PermissionArg }> = messageCodec('etcdserverpb.AuthRoleGrantPermissionRequest', {
  request: 'the request',
  messages: { perm: permission },
  // The permission is required: without it etcd would grant READ on the empty key.
  hooks: { perm: { toWire: (v) => permission.toWire(request(v, 'perm') as Permission) } },
})

export const revokePermissionRequest = messageCodec<{ role: string; key: Uint8Array | string; rangeEnd?: Uint8Array | string }>(
  'etcdserverpb.AuthRoleRevokePermissionRequest',
  { request: 'the request' },
)

// ---- responses

export { headerOnlyResponse } from './codec.ts'

export const authenticateResponse = messageCodec<AuthenticateResponse>('etcdserverpb.AuthenticateResponse', { messages: { header } })
export const userGetResponse = messageCodec<AuthUserGetResponse>('etcdserverpb.AuthUserGetResponse', { messages: { header } })
export const userListResponse = messageCodec<AuthUserListResponse>('etcdserverpb.AuthUserListResponse', { messages: { header } })
export const roleListResponse = messageCodec<AuthRoleListResponse>('etcdserverpb.AuthRoleListResponse', { messages: { header } })
export const roleGetResponse = messageCodec<AuthRoleGetResponse>('etcdserverpb.AuthRoleGetResponse', { messages: { header, perm: permission } })
export const authStatusResponse = messageCodec<AuthStatusResponse>('etcdserverpb.AuthStatusResponse', { messages: { header } })
