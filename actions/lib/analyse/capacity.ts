// What a shaped Ethernet link can carry as payload: the ceiling drawn on the absolute-throughput
// charts and the benches' reference. Pure.

/**
 * TCP goodput of a link of `rateMbit` (10^6 bits/s) at MTU 1500 with TCP timestamps: 1448 B of
 * payload per 1538 B on the wire (1500 + 14 header + 4 FCS + 8 preamble + 12 inter-frame gap).
 */
export const tcpGoodputCapacityMbit = (rateMbit: number): number => (rateMbit * 1448) / 1538;

/** Ethernet bytes per frame besides its IP packet: 14 header + 4 FCS + 8 preamble + 12 inter-frame gap. */
const ETHERNET_OVERHEAD = 38;
const ETHERNET_MIN_PAYLOAD = 46;
const IP_HEADER = 20;
const UDP_HEADER = 8;
/** IP payload per fragment at MTU 1500 (a multiple of 8, as fragment offsets require). */
const FRAGMENT_PAYLOAD = 1480;

/**
 * UDP payload goodput of a link of `rateMbit` for datagrams of `datagramBytes` of payload at MTU
 * 1500: a datagram above 1472 B is sent as IP fragments, each paying its own IP header and framing.
 */
export function udpGoodputCapacityMbit(rateMbit: number, datagramBytes: number): number {
  if (!(datagramBytes > 0))
    throw new Error(`udpGoodputCapacityMbit: datagram size must be positive, got ${datagramBytes}`);
  const ipPayload = datagramBytes + UDP_HEADER;
  const fragments = Math.ceil(ipPayload / FRAGMENT_PAYLOAD);
  let wire = 0;
  for (let i = 0; i < fragments; i++) {
    const carried = Math.min(FRAGMENT_PAYLOAD, ipPayload - i * FRAGMENT_PAYLOAD);
    wire += Math.max(ETHERNET_MIN_PAYLOAD, IP_HEADER + carried) + ETHERNET_OVERHEAD;
  }
  return (rateMbit * datagramBytes) / wire;
}
