package ipvs

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Connection is one entry of the kernel's connection table
// (/proc/net/ip_vs_conn): a client's connection to a virtual service and
// the real server it was scheduled to, or a persistence template.
type Connection struct {
	Protocol    Protocol
	Client      netip.AddrPort
	Virtual     netip.AddrPort
	Destination netip.AddrPort
	State       string        // ESTABLISHED, SYN_RECV, FIN_WAIT, … or NONE for templates
	Expires     time.Duration // whole seconds
	PEName      string        // persistence engine ("sip"), usually empty
	PEData      string
}

// connProtocols are the names ip_vs_proto_name prints; others are IP_<n>.
var connProtocols = map[string]Protocol{"IP": 0, "ICMP": 1, "TCP": TCP, "UDP": UDP, "ICMPv6": 58, "SCTP": SCTP}

// ParseConnections reads the text of /proc/net/ip_vs_conn:
//
//	Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//	TCP C0000201 D431 C0000264 0050 C6336415 1F90 ESTABLISHED     899
//
// IPv4 addresses are 8 hex digits in network order, IPv6 ones full
// colon-separated groups, ports 4 hex digits; the destination's family may
// differ from the client's (IPv6 service, IPv4 real server over a tunnel).
func ParseConnections(r io.Reader) ([]Connection, error) {
	var out []Connection
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 && strings.HasPrefix(text, "Pro ") {
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		c, err := parseConnection(text)
		if err != nil {
			return out, fmt.Errorf("ip_vs_conn line %d %q: %w", line, text, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("ip_vs_conn: %w", err)
	}
	return out, nil
}

func parseConnection(text string) (Connection, error) {
	f := strings.Fields(text)
	if len(f) < 9 {
		return Connection{}, fmt.Errorf("%d fields, want at least 9", len(f))
	}
	var c Connection
	p, ok := connProtocols[f[0]]
	if !ok {
		n, err := strconv.ParseUint(strings.TrimPrefix(f[0], "IP_"), 10, 8)
		if err != nil || !strings.HasPrefix(f[0], "IP_") {
			return c, fmt.Errorf("unknown protocol %q", f[0])
		}
		p = Protocol(n)
	}
	c.Protocol = p
	var err error
	if c.Client, err = procAddrPort(f[1], f[2]); err != nil {
		return c, fmt.Errorf("client: %w", err)
	}
	if c.Virtual, err = procAddrPort(f[3], f[4]); err != nil {
		return c, fmt.Errorf("virtual: %w", err)
	}
	if c.Destination, err = procAddrPort(f[5], f[6]); err != nil {
		return c, fmt.Errorf("destination: %w", err)
	}
	c.State = f[7]
	secs, err := strconv.ParseUint(f[8], 10, 32)
	if err != nil {
		return c, fmt.Errorf("expires %q: %w", f[8], err)
	}
	c.Expires = time.Duration(secs) * time.Second
	if len(f) > 9 {
		c.PEName = f[9]
		c.PEData = strings.Join(f[10:], " ")
	}
	return c, nil
}

// procAddrPort parses an address as the kernel prints it in ip_vs_conn
// (%08X of the host-order IPv4 address, or %pI6) and a %04X port.
func procAddrPort(addr, port string) (netip.AddrPort, error) {
	pn, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q: %w", port, err)
	}
	var a netip.Addr
	if strings.Contains(addr, ":") {
		if a, err = netip.ParseAddr(addr); err != nil {
			return netip.AddrPort{}, err
		}
	} else {
		v, err := strconv.ParseUint(addr, 16, 32)
		if err != nil || len(addr) != 8 {
			return netip.AddrPort{}, fmt.Errorf("address %q is not 8 hex digits", addr)
		}
		a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return netip.AddrPortFrom(a, uint16(pn)), nil
}
