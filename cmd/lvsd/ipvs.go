package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"

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
		ipvs.WriteConnections(stdout, cs)
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
		mode := ipvs.TableDefault
		if *stats {
			mode = ipvs.TableStats
		} else if *rate {
			mode = ipvs.TableRate
		}
		ipvs.SortLikeIpvsadm(st)
		ipvs.WriteTable(w, ipvs.VersionLine(), st, mode)
	}
	return exitOK
}
