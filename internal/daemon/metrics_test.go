package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/internal/director"
	"github.com/lvsd/lvsd/ipvs"
)

// lvsd_ipvs_drift_total is the director's count of the outside changes
// to the IPVS table it mended.
func TestMetricsIPVSDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		l.write(t, fmt.Sprintf(pairHCL, "1s", 2))
		cfg := l.load(t)
		dir, err := director.New(cfg, l.ipvs, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go dir.Run(ctx, nil)
		m := metrics{&Daemon{director: dir}}
		drift := func() float64 {
			v := -1.0
			m.ipvsDrift(func(d *prometheus.Desc, x float64, _ ...string) {
				if d == mIPVSDrift {
					v = x
				}
			})
			return v
		}
		synctest.Wait()
		if n := drift(); n != 0 {
			t.Errorf("lvsd_ipvs_drift_total %v before any outside change, want 0", n)
		}
		l.ipvs.DeleteDestination(cfg.VirtualServers[0].Service, ipvs.Destination{Address: netip.MustParseAddr("192.0.2.21"), Port: 80})
		time.Sleep(time.Minute) // the director's periodic pass
		synctest.Wait()
		if n := drift(); n != 1 {
			t.Errorf("lvsd_ipvs_drift_total %v after one outside change, want 1", n)
		}
		cancel()
		synctest.Wait()
	})
}
