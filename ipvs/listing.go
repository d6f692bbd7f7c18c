package ipvs

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// Listing: the kernel's table laid out byte for byte as ipvsadm prints it,
// so operators' eyes and scripts carry over (`lvsd ipvs`).

// TableMode is which columns WriteTable prints, as ipvsadm's flags choose.
type TableMode int

const (
	TableDefault TableMode = iota // ipvsadm -Ln
	TableStats                    // ipvsadm -Ln --stats
	TableRate                     // ipvsadm -Ln --rate
)

// VersionLine is the kernel's own first line of /proc/net/ip_vs
// ("IP Virtual Server version 1.2.1 (size=4096)").
func VersionLine() string {
	f, err := os.Open("/proc/net/ip_vs")
	if err != nil {
		return "IP Virtual Server"
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(line)
}

// WriteTable renders services and destinations as ipvsadm -Ln does.
func WriteTable(w io.Writer, version string, services []ServiceStats, mode TableMode) {
	fmt.Fprintln(w, version)
	switch mode {
	case TableStats:
		fmt.Fprintln(w, "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes")
		fmt.Fprintln(w, "  -> RemoteAddress:Port")
	case TableRate:
		fmt.Fprintln(w, "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS")
		fmt.Fprintln(w, "  -> RemoteAddress:Port")
	default:
		fmt.Fprintln(w, "Prot LocalAddress:Port Scheduler Flags")
		fmt.Fprintln(w, "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")
	}
	for _, s := range services {
		name := serviceName(s.Service)
		switch mode {
		case TableStats:
			fmt.Fprintf(w, "%-33s%s\n", name, counterColumns(s.Counters, false))
		case TableRate:
			fmt.Fprintf(w, "%-33s%s\n", name, counterColumns(s.Counters, true))
		default:
			fmt.Fprintf(w, "%s %s%s\n", name, s.Service.Scheduler, serviceFlags(s.Service))
		}
		for _, d := range s.Destinations {
			addr := addrPort(d.Destination.Address, d.Destination.Port)
			switch mode {
			case TableStats:
				fmt.Fprintf(w, "  -> %-28s%s\n", addr, counterColumns(d.Counters, false))
			case TableRate:
				fmt.Fprintf(w, "  -> %-28s%s\n", addr, counterColumns(d.Counters, true))
			default:
				fmt.Fprintf(w, "  -> %-28s %-7s %-6d %-10d %-10d\n", addr, forwardName(d.Destination.Forwarding),
					d.Destination.Weight, d.ActiveConns, d.InactiveConns)
			}
		}
	}
}

// serviceName is "TCP  192.0.2.100:80" or "FWM  7".
func serviceName(s Service) string {
	if s.FWMark != 0 {
		name := fmt.Sprintf("FWM  %d", s.FWMark)
		if s.IPv6 {
			name += " IPv6"
		}
		return name
	}
	return fmt.Sprintf("%-4s %s", strings.ToUpper(s.Protocol.String()), addrPort(s.Address, s.Port))
}

func addrPort(a netip.Addr, port uint16) string {
	if a.Is6() && !a.Is4In6() {
		return fmt.Sprintf("[%s]:%d", a, port)
	}
	return fmt.Sprintf("%s:%d", a.Unmap(), port)
}

// serviceFlags renders the scheduler flags, then persistence and its
// netmask, in ipvsadm's order.
func serviceFlags(s Service) string {
	var b strings.Builder
	if sf := s.Flags &^ (FlagPersistent | FlagHashed); sf != 0 {
		fmt.Fprintf(&b, " (%s)", FlagNames(s.Scheduler, sf))
	}
	if s.Persistence > 0 {
		fmt.Fprintf(&b, " persistent %d", int(s.Persistence.Seconds()))
		full := 32
		if s.IPv6 {
			full = 128
		}
		if bits := s.PersistenceBits; bits != 0 && bits != full {
			if s.IPv6 {
				fmt.Fprintf(&b, " mask %d", bits)
			} else {
				fmt.Fprintf(&b, " mask %s", maskString(bits))
			}
		}
	}
	return b.String()
}

func maskString(bits int) string {
	var m [4]byte
	for i := range bits {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(m).String()
}

func forwardName(f Forwarding) string {
	switch f {
	case NAT:
		return "Masq"
	case Tunnel:
		return "Tunnel"
	case Direct:
		return "Route"
	}
	return "Local"
}

// counterColumns renders five counters in ipvsadm's 8-wide columns, scaling
// large ones to K, M or G as it does.
func counterColumns(c Counters, rate bool) string {
	vals := []uint64{c.Conns, c.PacketsIn, c.PacketsOut, c.BytesIn, c.BytesOut}
	if rate {
		vals = []uint64{c.CPS, c.PPSIn, c.PPSOut, c.BPSIn, c.BPSOut}
	}
	var b strings.Builder
	for _, v := range vals {
		b.WriteString(" " + largeNum(v))
	}
	return b.String()
}

func largeNum(n uint64) string {
	switch {
	case n < 100_000_000:
		return fmt.Sprintf("%8d", n)
	case n < 100_000_000_000:
		return fmt.Sprintf("%7dK", n/1000)
	case n < 100_000_000_000_000:
		return fmt.Sprintf("%7dM", n/1_000_000)
	default:
		return fmt.Sprintf("%7dG", n/1_000_000_000)
	}
}

// WriteConnections renders the connection table as ipvsadm -Lnc does.
func WriteConnections(w io.Writer, cs []Connection) {
	fmt.Fprintln(w, "IPVS connection entries")
	fmt.Fprintln(w, "pro expire state       source             virtual            destination")
	for _, c := range cs {
		secs := int(c.Expires.Seconds())
		fmt.Fprintf(w, "%-3s %02d:%02d  %-11s %-18s %-18s %s\n", strings.ToUpper(c.Protocol.String()), secs/60, secs%60,
			c.State, apString(c.Client), apString(c.Virtual), apString(c.Destination))
	}
}

func apString(ap netip.AddrPort) string { return addrPort(ap.Addr(), ap.Port()) }

// SortLikeIpvsadm orders services as ipvsadm -Ln lists them: address
// services before fwmark ones, then by family, protocol, address and port;
// destinations by address and port.
func SortLikeIpvsadm(st []ServiceStats) {
	family := func(v6 bool) int {
		if v6 {
			return 10 // AF_INET6
		}
		return 2 // AF_INET
	}
	slices.SortStableFunc(st, func(a, b ServiceStats) int {
		x, y := a.Service, b.Service
		return cmp.Or(
			cmp.Compare(x.FWMark, y.FWMark),
			cmp.Compare(family(x.IPv6), family(y.IPv6)),
			cmp.Compare(protoNumber(x), protoNumber(y)),
			x.Address.Compare(y.Address),
			cmp.Compare(x.Port, y.Port),
		)
	})
	for _, s := range st {
		slices.SortStableFunc(s.Destinations, func(a, b DestinationStats) int {
			return cmp.Or(a.Destination.Address.Compare(b.Destination.Address), cmp.Compare(a.Destination.Port, b.Destination.Port))
		})
	}
}

// protoNumber is the protocol the kernel reports: none for fwmark services.
func protoNumber(s Service) uint16 {
	if s.FWMark != 0 {
		return 0
	}
	return uint16(s.Protocol)
}
