//go:build vmguest

package guest

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/lab"
	"github.com/lvsd/lvsd/test/lvsdtest"
)

// scrape reads /metrics from lvsd in h, over HTTP as Prometheus does,
// into metric{labels} → value.
func scrape(t *testing.T, h *lab.Host) map[string]float64 {
	t.Helper()
	body, err := get(h, netip.MustParseAddrPort("127.0.0.1:9560"), "/metrics")
	if err != nil {
		t.Fatalf("scraping %s: %v", h.Name(), err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metric line %q", line)
		}
		m[line[:i]] = v
	}
	return m
}

// TestMetrics: metrics scraped over HTTP reflect a real server going down
// and a failover.
func TestMetrics(t *testing.T) {
	s := drPair(t)
	global := "global {\n  metrics_listen = \"127.0.0.1:9560\"\n}\n"
	a := lvsdtest.Start(t, s.a, global+pairHCL(150, true))
	b := lvsdtest.Start(t, s.b, global+pairHCL(100, true))
	lvsdtest.WaitFor(t, 10*time.Second, "dir-a master, both servers up", func() bool {
		return a.State() == "MASTER" && b.State() == "BACKUP" && len(ipvsTable(t, s.a)) == 3
	})
	const rs2 = `{server="192.0.2.22:80",service="web"}`
	ma := scrape(t, s.a)
	for name, want := range map[string]float64{
		`lvsd_up`: 1, `lvsd_vrrp_master{instance="VI_1"}`: 1, `lvsd_vrrp_state{instance="VI_1"}`: 2,
		`lvsd_vrrp_priority{instance="VI_1",kind="configured"}`: 150, `lvsd_real_server_up` + rs2: 1,
		`lvsd_service_quorum_met{service="web"}`: 1, `lvsd_reloads_total{result="failure"}`: 0,
	} {
		if got, ok := ma[name]; !ok || got != want {
			t.Errorf("dir-a %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if _, ok := ma[`lvsd_service_connections{service="web",state="active"}`]; !ok {
		t.Error("no lvsd_service_connections from the kernel")
	}
	if mb := scrape(t, s.b); mb[`lvsd_vrrp_master{instance="VI_1"}`] != 0 {
		t.Error("dir-b reports itself master")
	}

	// rs2 goes down.
	s.stops[1]()
	lvsdtest.WaitFor(t, 10*time.Second, "rs2 down in the metrics", func() bool { return scrape(t, s.a)[`lvsd_real_server_up`+rs2] == 0 })
	if n := scrape(t, s.a)[`lvsd_real_server_transitions_total`+rs2]; n < 1 {
		t.Errorf("rs2 transitions %v after going down", n)
	}

	// Failover: dir-a dies, dir-b's metrics show the takeover.
	before := scrape(t, s.b)[`lvsd_vrrp_transitions_total{instance="VI_1"}`]
	a.Kill()
	s.aLink.Cut()
	lvsdtest.WaitFor(t, 10*time.Second, "dir-b master in its metrics", func() bool { return scrape(t, s.b)[`lvsd_vrrp_master{instance="VI_1"}`] == 1 })
	mb := scrape(t, s.b)
	if mb[`lvsd_vrrp_transitions_total{instance="VI_1"}`] != before+1 || mb[`lvsd_vrrp_state{instance="VI_1"}`] != 2 {
		t.Errorf("dir-b after the failover: transitions %v (was %v), state %v",
			mb[`lvsd_vrrp_transitions_total{instance="VI_1"}`], before, mb[`lvsd_vrrp_state{instance="VI_1"}`])
	}
	if mb[`lvsd_sync_connections_total{peer="192.0.2.11"}`] < 0 {
		t.Error("no sync metrics")
	}
}
