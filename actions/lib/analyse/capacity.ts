// The TCP goodput a shaped Ethernet link can carry: the one place this formula lives. Pure.

/**
 * TCP goodput of an Ethernet link at `rateMbit` with a 1500-B MTU and TCP timestamps: each
 * 1538-B frame on the wire (preamble, header, FCS, gap) carries 1448 B of payload.
 * 100 Mbit/s -> 94.148 Mbit/s.
 */
export function tcpGoodputCapacityMbit(rateMbit: number): number {
  return (rateMbit * 1448) / 1538;
}
