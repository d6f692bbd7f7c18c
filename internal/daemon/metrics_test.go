package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/ipvs"
)

// lvsd_ipvs_drift_total counts the outside changes to the IPVS table the
// director mended, from the director's own record.
func TestMetricsIPVSDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		l.write(t, fmt.Sprintf(pairHCL, "1s", 2))
		cfg := l.load(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		d, err := New(ctx, cfg, l.Host(), Options{Log: quiet, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		err = d.apply(cfg, nil)
		d.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(metrics{d})
		drift := func() float64 {
			t.Helper()
			fams, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fams {
				if f.GetName() == "lvsd_ipvs_drift_total" && len(f.GetMetric()) == 1 {
					return f.GetMetric()[0].GetCounter().GetValue()
				}
			}
			t.Fatal("no lvsd_ipvs_drift_total")
			return 0
		}
		if n := drift(); n != 0 {
			t.Errorf("drift %v before any outside change", n)
		}
		svc := cfg.VirtualServers[0].Service
		l.ipvs.DeleteDestination(svc, ipvs.Destination{Address: netip.MustParseAddr("192.0.2.21"), Port: 80})
		time.Sleep(time.Minute) // the director's periodic pass
		synctest.Wait()
		if n := drift(); n != 1 {
			t.Errorf("drift %v after one outside change, want 1", n)
		}
		if dr := d.Status().Services[0].IPVSDrift; dr == nil || dr.Count != 1 || !strings.HasPrefix(dr.LastOps[0], "create-destination") {
			t.Errorf("status of service web: drift %+v", dr)
		}
		d.stop()
	})
}
