package director

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
)

// An outside change to the table (ipvsadm by hand, another tool) is
// mended by the periodic pass and reported as drift, globally and for the
// service it touched; lvsd's own changes (a health transition, the retry
// of an operation that failed) are not.
func TestDirectorReportsIPVSDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := ipvs.NewFake()
		var failNext bool
		fake.Fail = func(ipvs.Op) error {
			if failNext {
				failNext = false
				return errors.New("ENOMEM")
			}
			return nil
		}
		// No checks: both servers are up from the start, and the test
		// makes their transitions.
		a, b := rs("192.0.2.21", 1), rs("192.0.2.22", 1)
		a.Check, b.Check = nil, nil
		d, err := New(webConfig(1, 0, a, b), fake, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx, nil)
		synctest.Wait()
		if dr := d.Drift(); dr != nil || fake.Ops() == nil {
			t.Fatalf("the first pass built the table (%d ops); drift %+v, want none", len(fake.Ops()), dr)
		}

		// Behind lvsd's back: a weight changed by hand and a service of
		// another tool.
		fake.TakeOps()
		fake.UpdateDestination(webSvc, ipvs.Destination{Address: netip.MustParseAddr("192.0.2.21"), Port: 80, Weight: 9, Forwarding: ipvs.Direct})
		other := ipvs.Service{Address: netip.MustParseAddr("192.0.2.200"), Port: 53, Protocol: ipvs.UDP, Scheduler: "rr"}
		fake.CreateService(other)
		fake.TakeOps()
		mended := time.Now().Add(resyncEvery)
		time.Sleep(resyncEvery)
		synctest.Wait()
		dr := d.Drift()
		if dr == nil || dr.Count != 1 || dr.Ops != 2 || !dr.Last.Equal(mended) {
			t.Fatalf("global drift %+v; want 1 pass of 2 ops at %s", dr, mended)
		}
		if got := strings.Join(dr.LastOps, "; "); !strings.Contains(got, "delete-service udp 192.0.2.200:53") ||
			!strings.Contains(got, "update-destination tcp 192.0.2.100:80 192.0.2.21:80 weight 9→1") {
			t.Errorf("last drift ops: %s", got)
		}
		sd := d.Status()[0].IPVSDrift
		if sd == nil || sd.Count != 1 || sd.Ops != 1 || len(sd.LastOps) != 1 {
			t.Errorf("service web's drift %+v; want its one op only", sd)
		}

		// lvsd's own change, whose first try fails and is retried 5 s
		// later: neither is drift.
		failNext = true
		d.onHealth(healthcheck.Event{Key: "web/192.0.2.22:80", State: healthcheck.Down})
		synctest.Wait()
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if entries, _ := fake.Services(); len(entries) != 1 || len(entries[0].Destinations) != 1 {
			t.Fatalf("the failed delete was not retried: %v", entries)
		}
		time.Sleep(resyncEvery) // a pass with nothing to mend
		synctest.Wait()
		if dr := d.Drift(); dr.Count != 1 {
			t.Errorf("lvsd's own changes counted as drift: %+v", dr)
		}
	})
}
