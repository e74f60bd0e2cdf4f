/** isLoopback tells whether an address is on the loopback interface (127.0.0.0/8, ::1, or IPv4 mapped into IPv6). */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address
  return v4.startsWith('127.') || address === '::1' || address === 'localhost'
}
