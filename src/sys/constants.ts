// Linux socket, netlink and scheduling constants (<sys/socket.h>, <netinet/in.h>, <linux/if_ether.h>,
// <linux/netlink.h>, <linux/filter.h>, <sched.h>) with the values of x86-64/arm64 Linux.

export const AF_UNSPEC = 0
export const AF_UNIX = 1
export const AF_INET = 2
export const AF_INET6 = 10
export const AF_NETLINK = 16
export const AF_PACKET = 17

export const SOCK_STREAM = 1
export const SOCK_DGRAM = 2
export const SOCK_RAW = 3

export const SOL_SOCKET = 1
export const SOL_IP = 0
export const SOL_IPV6 = 41
export const SOL_PACKET = 263
export const SOL_NETLINK = 270

export const IPPROTO_IP = 0
export const IPPROTO_ICMP = 1
export const IPPROTO_TCP = 6
/** <netinet/tcp.h>: wake the listener only when data arrives (seconds to wait for it). */
export const TCP_DEFER_ACCEPT = 9
export const IPPROTO_UDP = 17
export const IPPROTO_IPV6 = 41
export const IPPROTO_ICMPV6 = 58
export const IPPROTO_RAW = 255
/** VRRP (RFC 5798 §5.1.1.4). */
export const IPPROTO_VRRP = 112

// SOL_SOCKET options
export const SO_REUSEADDR = 2
export const SO_BROADCAST = 6
export const SO_SNDBUF = 7
export const SO_RCVBUF = 8
export const SO_PRIORITY = 12
export const SO_SNDBUFFORCE = 32
export const SO_RCVBUFFORCE = 33
export const SO_BINDTODEVICE = 25
/** Receive timestamps as struct timespec of CLOCK_REALTIME (SCM_TIMESTAMPNS, the same number); 64-bit layout. */
export const SO_TIMESTAMPNS = 35
export const SO_PEERCRED = 17
export const SO_ATTACH_FILTER = 26
export const SO_DETACH_FILTER = 27
export const SO_MARK = 36
export const SO_RXQ_OVFL = 40
/** The socket's memory counters as u32[SK_MEMINFO_VARS]; index SK_MEMINFO_DROPS counts the datagrams it dropped. */
export const SO_MEMINFO = 55
export const SK_MEMINFO_DROPS = 8
export const SO_BUSY_POLL = 46

// IPPROTO_IP options
export const IP_TOS = 1
export const IP_TTL = 2
export const IP_HDRINCL = 3
export const IP_OPTIONS = 4
export const IP_PKTINFO = 8
export const IP_RECVTTL = 12
export const IP_MTU_DISCOVER = 10
export const IP_FREEBIND = 15
export const IP_MULTICAST_IF = 32
export const IP_MULTICAST_TTL = 33
export const IP_MULTICAST_LOOP = 34
export const IP_ADD_MEMBERSHIP = 35
export const IP_DROP_MEMBERSHIP = 36
export const IP_MULTICAST_ALL = 49

// IPPROTO_IPV6 options
export const IPV6_CHECKSUM = 7
export const IPV6_UNICAST_HOPS = 16
export const IPV6_MULTICAST_IF = 17
export const IPV6_MULTICAST_HOPS = 18
export const IPV6_MULTICAST_LOOP = 19
export const IPV6_JOIN_GROUP = 20
export const IPV6_LEAVE_GROUP = 21
export const IPV6_V6ONLY = 26
export const IPV6_RECVPKTINFO = 49
export const IPV6_PKTINFO = 50
export const IPV6_RECVHOPLIMIT = 51
export const IPV6_HOPLIMIT = 52
export const IPV6_FREEBIND = 78
export const IPV6_MULTICAST_ALL = 29

// AF_PACKET
export const PACKET_ADD_MEMBERSHIP = 1
export const PACKET_DROP_MEMBERSHIP = 2
export const PACKET_HOST = 0
export const PACKET_BROADCAST = 1
export const PACKET_MULTICAST = 2
export const PACKET_OTHERHOST = 3
export const PACKET_OUTGOING = 4
export const ARPHRD_ETHER = 1

export const ETH_P_ALL = 0x0003
export const ETH_P_IP = 0x0800
export const ETH_P_ARP = 0x0806
export const ETH_P_IPV6 = 0x86dd
/** Local experimental ethertype (IEEE 802 §9.2.2), for tests. */
export const ETH_P_EXPERIMENTAL = 0x88b5

// netlink
export const NETLINK_ROUTE = 0
export const NETLINK_GENERIC = 16
export const NETLINK_ADD_MEMBERSHIP = 1
export const NETLINK_DROP_MEMBERSHIP = 2
export const NETLINK_PKTINFO = 3
export const NETLINK_BROADCAST_ERROR = 4
export const NETLINK_NO_ENOBUFS = 5
export const NETLINK_CAP_ACK = 10
export const NETLINK_EXT_ACK = 11
export const NETLINK_GET_STRICT_CHK = 12

// send/recv flags and msg_flags
export const MSG_PEEK = 0x2
export const MSG_CTRUNC = 0x8
export const MSG_TRUNC = 0x20
export const MSG_DONTWAIT = 0x40
export const MSG_ERRQUEUE = 0x2000

// scheduling policies (<sched.h>)
export const SCHED_OTHER = 0
export const SCHED_FIFO = 1
export const SCHED_RR = 2
export const SCHED_BATCH = 3
export const SCHED_IDLE = 5

// classic BPF (<linux/filter.h>)
export const BPF_LD = 0x00
export const BPF_LDX = 0x01
export const BPF_ST = 0x02
export const BPF_ALU = 0x04
export const BPF_JMP = 0x05
export const BPF_RET = 0x06
export const BPF_W = 0x00
export const BPF_H = 0x08
export const BPF_B = 0x10
export const BPF_ABS = 0x20
export const BPF_IND = 0x40
export const BPF_MEM = 0x60
export const BPF_LEN = 0x80
export const BPF_MSH = 0xa0
export const BPF_JA = 0x00
export const BPF_JEQ = 0x10
export const BPF_JGT = 0x20
export const BPF_JGE = 0x30
export const BPF_JSET = 0x40
export const BPF_SUB = 0x10
export const BPF_AND = 0x50
export const BPF_MISC = 0x07
export const BPF_TAX = 0x00
/** Loads at this offset and beyond read the network header (an IPv6 raw socket's data starts after it). */
export const SKF_NET_OFF = -0x100000
export const BPF_K = 0x00
export const BPF_X = 0x08

// libuv poll events, as the native Poller takes them
export const UV_READABLE = 1
export const UV_WRITABLE = 2
export const UV_DISCONNECT = 4
