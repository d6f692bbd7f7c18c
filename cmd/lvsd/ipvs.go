package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/lvsd/lvsd/ipvs"
)

// cmdIPVS prints the kernel's IPVS table laid out like `ipvsadm -Ln`, so
// operators' eyes and scripts carry over.
func cmdIPVS(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ipvs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stats := fs.Bool("stats", false, "counters since each entry was created (ipvsadm -Ln --stats)")
	rate := fs.Bool("rate", false, "rates over the last seconds (ipvsadm -Ln --rate)")
	timeout := fs.Bool("timeout", false, "the global connection timeouts (ipvsadm -L --timeout)")
	conns := fs.Bool("connections", false, "the connection table (ipvsadm -Lnc)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd ipvs [--stats | --rate | --timeout | --connections]\n\nShows the kernel's IPVS table as ipvsadm -Ln does.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	n := 0
	for _, b := range []bool{*stats, *rate, *timeout, *conns} {
		if b {
			n++
		}
	}
	if n > 1 {
		fmt.Fprintln(stderr, "lvsd ipvs: give at most one of --stats, --rate, --timeout, --connections")
		return exitUsage
	}
	if *conns {
		cs, err := ipvs.Connections("")
		if err != nil {
			fmt.Fprintln(stderr, "lvsd ipvs:", err)
			return exitFail
		}
		writeConnections(stdout, cs)
		return exitOK
	}
	k, err := ipvs.Open("")
	if err != nil {
		fmt.Fprintln(stderr, "lvsd ipvs:", err)
		return exitFail
	}
	defer k.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	switch {
	case *timeout:
		t, err := k.Timeouts()
		if err != nil {
			fmt.Fprintln(stderr, "lvsd ipvs:", err)
			return exitFail
		}
		fmt.Fprintf(w, "Timeout (tcp tcpfin udp): %d %d %d\n", int(t.TCP.Seconds()), int(t.TCPFin.Seconds()), int(t.UDP.Seconds()))
		return exitOK
	default:
		st, err := k.Stats()
		if err != nil {
			fmt.Fprintln(stderr, "lvsd ipvs:", err)
			return exitFail
		}
		mode := tableDefault
		if *stats {
			mode = tableStats
		} else if *rate {
			mode = tableRate
		}
		sortLikeIpvsadm(st)
		writeTable(w, versionLine(), st, mode)
	}
	return exitOK
}

type tableMode int

const (
	tableDefault tableMode = iota
	tableStats
	tableRate
)

// versionLine is the kernel's own first line of /proc/net/ip_vs
// ("IP Virtual Server version 1.2.1 (size=4096)").
func versionLine() string {
	f, err := os.Open("/proc/net/ip_vs")
	if err != nil {
		return "IP Virtual Server"
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(line)
}

// writeTable renders services and destinations as ipvsadm -Ln does.
func writeTable(w io.Writer, version string, services []ipvs.ServiceStats, mode tableMode) {
	fmt.Fprintln(w, version)
	switch mode {
	case tableStats:
		fmt.Fprintln(w, "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes")
		fmt.Fprintln(w, "  -> RemoteAddress:Port")
	case tableRate:
		fmt.Fprintln(w, "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS")
		fmt.Fprintln(w, "  -> RemoteAddress:Port")
	default:
		fmt.Fprintln(w, "Prot LocalAddress:Port Scheduler Flags")
		fmt.Fprintln(w, "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")
	}
	for _, s := range services {
		name := serviceName(s.Service)
		switch mode {
		case tableStats:
			fmt.Fprintf(w, "%-33s%s\n", name, counters(s.Counters, false))
		case tableRate:
			fmt.Fprintf(w, "%-33s%s\n", name, counters(s.Counters, true))
		default:
			fmt.Fprintf(w, "%s %s%s\n", name, s.Service.Scheduler, serviceFlags(s.Service))
		}
		for _, d := range s.Destinations {
			addr := addrPort(d.Destination.Address, d.Destination.Port)
			switch mode {
			case tableStats:
				fmt.Fprintf(w, "  -> %-28s%s\n", addr, counters(d.Counters, false))
			case tableRate:
				fmt.Fprintf(w, "  -> %-28s%s\n", addr, counters(d.Counters, true))
			default:
				fmt.Fprintf(w, "  -> %-28s %-7s %-6d %-10d %-10d\n", addr, forwardName(d.Destination.Forwarding),
					d.Destination.Weight, d.ActiveConns, d.InactiveConns)
			}
		}
	}
}

// serviceName is "TCP  192.0.2.100:80" or "FWM  7".
func serviceName(s ipvs.Service) string {
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
func serviceFlags(s ipvs.Service) string {
	var b strings.Builder
	if sf := s.Flags &^ (ipvs.FlagPersistent | ipvs.FlagHashed); sf != 0 {
		fmt.Fprintf(&b, " (%s)", ipvs.FlagNames(s.Scheduler, sf))
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

func forwardName(f ipvs.Forwarding) string {
	switch f {
	case ipvs.NAT:
		return "Masq"
	case ipvs.Tunnel:
		return "Tunnel"
	case ipvs.Direct:
		return "Route"
	}
	return "Local"
}

// counters renders five counters in ipvsadm's 8-wide columns, scaling
// large ones to K, M or G as it does.
func counters(c ipvs.Counters, rate bool) string {
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

// writeConnections renders the connection table as ipvsadm -Lnc does.
func writeConnections(w io.Writer, cs []ipvs.Connection) {
	fmt.Fprintln(w, "IPVS connection entries")
	fmt.Fprintln(w, "pro expire state       source             virtual            destination")
	for _, c := range cs {
		secs := int(c.Expires.Seconds())
		fmt.Fprintf(w, "%-3s %02d:%02d  %-11s %-18s %-18s %s\n", strings.ToUpper(c.Protocol.String()), secs/60, secs%60,
			c.State, apString(c.Client), apString(c.Virtual), apString(c.Destination))
	}
}

func apString(ap netip.AddrPort) string { return addrPort(ap.Addr(), ap.Port()) }

// sortLikeIpvsadm orders services as ipvsadm -Ln lists them: address
// services before fwmark ones, then by family, protocol, address and port;
// destinations by address and port.
func sortLikeIpvsadm(st []ipvs.ServiceStats) {
	family := func(v6 bool) int {
		if v6 {
			return 10 // AF_INET6
		}
		return 2 // AF_INET
	}
	slices.SortStableFunc(st, func(a, b ipvs.ServiceStats) int {
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
		slices.SortStableFunc(s.Destinations, func(a, b ipvs.DestinationStats) int {
			return cmp.Or(a.Destination.Address.Compare(b.Destination.Address), cmp.Compare(a.Destination.Port, b.Destination.Port))
		})
	}
}

// protoNumber is the protocol the kernel reports: none for fwmark services.
func protoNumber(s ipvs.Service) uint16 {
	if s.FWMark != 0 {
		return 0
	}
	return uint16(s.Protocol)
}
