//go:build vmguest

package guest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// say prints one line of the demo's narration; the demo program shows
// only these.
func say(format string, args ...any) {
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		fmt.Printf("demo: %s\n", line)
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// TestDemo is `make demo`: a director pair with everything it is for,
// narrated with timings. It is a test so that each step is checked.
func TestDemo(t *testing.T) {
	begin := time.Now()
	say("Building the lab: network namespaces on one segment, 192.0.2.0/24.")
	say("  client 192.0.2.50; directors dir-a 192.0.2.11 (priority 150) and dir-b 192.0.2.12 (priority 100);")
	say("  real servers rs1 192.0.2.21 and rs2 192.0.2.22 serving HTTP, with the VIP 192.0.2.100 on lo (direct routing).")
	s := drPair(t)
	a := lvsdtest.Start(t, s.a, pairHCL(150, true))
	b := lvsdtest.Start(t, s.b, pairHCL(100, true))
	say("Both directors run lvsd: VRRP v3 every 500ms, a DR service with TCP checks, connection_sync following VI_1.")

	t0 := time.Now()
	lvsdtest.WaitFor(t, 10*time.Second, "election", func() bool { return a.State() == "MASTER" && b.State() == "BACKUP" })
	say("")
	say("1. Election: dir-a is MASTER and dir-b BACKUP after %s (3 × 500ms + skew, as RFC 5798 says).", secs(time.Since(t0)))
	lvsdtest.WaitFor(t, 10*time.Second, "both real servers in", func() bool { return len(ipvsTable(t, s.a)) == 3 })
	say("   lvsd status on dir-a:")
	say("%s", indent(lvsdOut(t, s.a, "status", "-s", a.Socket)))

	say("2. Traffic through the VIP: 20 requests from the client.")
	counts := map[string]int{}
	for range 20 {
		body, err := get(s.client, netip.MustParseAddrPort("192.0.2.100:80"), "/")
		if err != nil {
			t.Fatal(err)
		}
		counts[body]++
	}
	say("   answered by rs1 %d times and rs2 %d times (round robin). The kernel's table, by `lvsd ipvs` (as ipvsadm -Ln):", counts["rs1"], counts["rs2"])
	say("%s", indent(lvsdOut(t, s.a, "ipvs")))

	say("3. A real server fails: rs2's HTTP server stops.")
	s.stops[1]()
	t1 := time.Now()
	lvsdtest.WaitFor(t, 10*time.Second, "rs2 leaves", func() bool { return len(ipvsTable(t, s.a)) == 2 })
	say("   rs2 left the table on both directors after %s (the check: every 1s, timeout 500ms, fall 3).", secs(time.Since(t1)))
	serveHTTP(t, s.rs[1], netip.MustParseAddrPort("0.0.0.0:80"), "rs2")
	t1 = time.Now()
	lvsdtest.WaitFor(t, 10*time.Second, "rs2 returns", func() bool { return len(ipvsTable(t, s.a)) == 3 })
	say("   rs2 served again and returned after %s (rise 1).", secs(time.Since(t1)))

	say("4. Five long-lived connections from the client start streaming through the VIP.")
	var ss []*stream
	for range 5 {
		ss = append(ss, openStream(t, s.client, netip.MustParseAddrPort("192.0.2.100:80")))
	}
	lvsdtest.WaitFor(t, 10*time.Second, "the backup knows them", func() bool { return countConns(t, s.b) >= 5 })
	say("   dir-b's kernel already holds all %d of them, learnt from dir-a's sync messages.", countConns(t, s.b))

	say("5. A planned failover drill on dir-a: lvsd drill --hold 4s")
	say("%s", indent(lvsdOut(t, s.a, "drill", "-s", a.Socket, "--hold", "4s")))
	t2 := time.Now()
	lvsdtest.WaitFor(t, 10*time.Second, "dir-a back", func() bool { return a.State() == "MASTER" })
	say("   after the hold dir-a preempted again, %s later; the streams never noticed: %s.", secs(time.Since(t2)), streamsState(ss))

	say("6. Unplanned: dir-a dies (lvsd SIGKILLed, its link cut).")
	t3 := time.Now()
	a.Kill()
	s.aLink.Cut()
	lvsdtest.WaitFor(t, 10*time.Second, "dir-b master", func() bool { return b.State() == "MASTER" })
	say("   dir-b became MASTER after %s.", secs(time.Since(t3)))
	time.Sleep(4 * time.Second)
	say("   the client's connections through the VIP: %s.", streamsState(ss))
	for _, st := range ss {
		if _, _, missing, err := st.snapshot(); err != nil || missing > 0 || time.Since(st.lastLine()) > time.Second {
			t.Errorf("a stream did not survive: %v", err)
		}
	}
	say("")
	say("Done in %s. Cleaning up the lab.", secs(time.Since(begin)))
}

func indent(s string) string {
	return "   | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   | ")
}

// lvsdOut runs lvsd with args in h and returns its output.
func lvsdOut(t *testing.T, h *lab.Host, args ...string) string {
	t.Helper()
	out, err := combined(h, h.Command(context.Background(), lvsdtest.MustBinary(t), args...))
	if err != nil {
		t.Fatalf("lvsd %v: %v\n%s", args, err, out)
	}
	return out
}

// streamsState summarises the streams: how many flow, lines, stalls.
func streamsState(ss []*stream) string {
	alive, total := 0, 0
	var stall time.Duration
	for _, st := range ss {
		n, longest, missing, err := st.snapshot()
		total += n
		stall = max(stall, longest)
		if err == nil && missing == 0 && time.Since(st.lastLine()) < time.Second {
			alive++
		}
	}
	return fmt.Sprintf("%d of %d flowing, %d lines received, none lost or repeated, longest stall %s", alive, len(ss), total, secs(stall))
}
