//go:build bench

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/lvsd/lvsd/test/benchtab"
	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
	"github.com/lvsd/lvsd/vrrp"
)

// drills per (implementation, interval, kind); the issue asks for ≥ 10.
const drills = 11

// TestBenchFailover measures failover of an lvsd pair and a keepalived
// pair with identical settings, from the signal that stops the master to
// the first gratuitous ARP from the new master seen by an observer, and
// prints the medians next to the RFC bound.
func TestBenchFailover(t *testing.T) {
	type row struct {
		interval        time.Duration
		kind            string
		bound           time.Duration
		lvsd, keepalive []time.Duration
	}
	var rows []*row
	for _, iv := range []time.Duration{time.Second, 100 * time.Millisecond} {
		s := vrrpSettings{version: 3, interval: iv}
		kill := &row{interval: iv, kind: "unplanned (SIGKILL)", bound: vrrp.MasterDown(vrrp.V3, 100, iv)}
		term := &row{interval: iv, kind: "planned (SIGTERM)", bound: vrrp.Skew(vrrp.V3, 100, iv)}
		rows = append(rows, kill, term)
		for _, impl := range []string{"lvsd", "keepalived"} {
			t.Run(fmt.Sprintf("%s/%s", impl, iv), func(t *testing.T) {
				k, p := failoverDrills(t, impl, s)
				if impl == "lvsd" {
					kill.lvsd, term.lvsd = k, p
				} else {
					kill.keepalive, term.keepalive = k, p
				}
			})
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nVRRP failover: median of %d drills each, from the signal to the new master's first GARP seen by an observer\n", drills)
	fmt.Fprintf(&b, "(v3, priority 100 on both routers, preempt off; RFC bound: master_down = 3×interval + skew for SIGKILL, skew for SIGTERM)\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "interval\tfailover\tRFC bound\tlvsd\tkeepalived\tlvsd/bound\tkeepalived/bound\tlvsd/keepalived\tlvsd min..max\tkeepalived min..max\t")
	for _, r := range rows {
		l, k := median(r.lvsd), median(r.keepalive)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n", r.interval, r.kind, ms(r.bound), ms(l), ms(k),
			ratio(l, r.bound), ratio(k, r.bound), ratio(l, k), spread(r.lvsd), spread(r.keepalive))
	}
	tw.Flush()
	fmt.Fprintln(&b, "\nAn unplanned failover lands up to one interval before the bound: the kill falls somewhere between two adverts.")
	fmt.Fprint(os.Stdout, b.String())

	var out []benchtab.Row
	for _, r := range rows {
		what := fmt.Sprintf("%s, adverts every %s, median of %d", r.kind, r.interval, drills)
		l, k := median(r.lvsd), median(r.keepalive)
		out = append(out,
			benchtab.Row{Area: "VRRP failover", Measure: what, Lvsd: ms(l), Reference: "keepalived, same settings", RefValue: ms(k), Ratio: ratio(l, k)},
			benchtab.Row{Area: "VRRP failover", Measure: what, Lvsd: ms(l), Reference: "RFC 5798 bound", RefValue: ms(r.bound), Ratio: ratio(l, r.bound)})
	}
	if err := benchtab.Add(out...); err != nil {
		t.Error(err)
	}
}

// failoverDrills runs the drills against one implementation and returns
// the unplanned and planned takeover times.
func failoverDrills(t *testing.T, impl string, s vrrpSettings) (killed, stopped []time.Duration) {
	p := newPairLab(t)
	start := func(h *lab.Host) router {
		if impl == "lvsd" {
			return lvsdtest.Start(t, h, s.lvsdHCL(100))
		}
		return startKeepalived(t, h, s.keepalivedConf("ka-"+h.Name(), 100))
	}
	hosts := []*lab.Host{p.a, p.b}
	links := []*lab.Link{p.aLink, p.bLink}
	routers := []router{start(p.a), start(p.b)}
	master := func() int {
		var m int
		lvsdtest.WaitFor(t, vrrp.MasterDown(vrrp.V3, 100, s.interval)+5*time.Second, "one master", func() bool {
			a, b := holdsVIP(t, p.a), holdsVIP(t, p.b)
			m = map[bool]int{true: 0, false: 1}[a]
			return a != b
		})
		return m
	}
	settle := func() { time.Sleep(3*s.interval + 300*time.Millisecond) }
	settle()
	for _, planned := range []bool{false, true} {
		for range drills {
			m := master()
			other := 1 - m
			// Kill at a random moment between two adverts, as a crash would.
			time.Sleep(time.Duration(rand.Int64N(int64(s.interval))))
			t0 := time.Now()
			if planned {
				routers[m].Terminate()
			} else {
				routers[m].Kill()
			}
			took := waitGARP(t, p.arps, t0, links[other].MAC(), 10*time.Second)
			if planned {
				stopped = append(stopped, took)
			} else {
				killed = append(killed, took)
			}
			// A killed router leaves the VIP behind; the restarted one
			// drops it as it starts as backup.
			routers[m] = start(hosts[m])
			settle()
		}
	}
	t.Logf("%s, interval %s: SIGKILL %v; SIGTERM %v", impl, s.interval, killed, stopped)
	return killed, stopped
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	return ms(slices.Min(ds)) + ".." + ms(slices.Max(ds))
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }
