package daemon

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/vrrp"
	"github.com/lvsd/lvsd/vrrp/vrrptest"
)

// Adverts for a VRID nobody here runs appear in status (sockets) and in
// the metrics, per interface and family.
func TestStatusShowsSocketCounters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		l.write(t, `
vrrp "VI_1" {
  interface         = "lo"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
`)
		cfg := l.load(t)
		ctx := t.Context()
		d, err := New(ctx, cfg, l.Host(), Options{Log: quiet, Version: "test"})
		if err == nil {
			d.mu.Lock()
			err = d.apply(cfg, nil)
			d.mu.Unlock()
		}
		if err != nil {
			t.Fatal(err)
		}
		defer d.stop()
		// Another cluster on the link, VRID 52: master after ~3.6 s, then
		// an advert a second.
		other := vrrptest.NewHost("other")
		other.AddInterface("lo", l.wire, netip.MustParseAddr("192.0.2.13"))
		node := vrrp.NewNode(ctx, other.Deps(quiet))
		defer node.Stop()
		oc := cfg.Instances[0]
		oc.VRID, oc.Name = 52, "OTHER"
		if _, err := node.Apply(vrrp.NodeConfig{Instances: []vrrp.Config{oc}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		r, _ := node.Instance("OTHER")
		ost, _ := r.Instance.Status()
		st := d.Status()
		want := control.Socket{Interface: "lo", Family: "ipv4", UnknownVRID: ost.Sent} // the fake conn has no kernel drops
		if len(st.Sockets) != 1 || st.Sockets[0] != want || ost.Sent == 0 {
			t.Fatalf("sockets %+v, want [%+v]", st.Sockets, want)
		}

		reg := prometheus.NewRegistry()
		reg.MustRegister(metrics{d})
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				labels := ""
				for _, lp := range m.GetLabel() {
					labels += lp.GetName() + "=" + lp.GetValue() + " "
				}
				got[mf.GetName()+" "+labels] = m.GetCounter().GetValue()
			}
		}
		for name, v := range map[string]float64{
			"lvsd_vrrp_socket_unknown_vrid_total family=ipv4 interface=lo ": float64(ost.Sent),
			"lvsd_vrrp_socket_kernel_drops_total family=ipv4 interface=lo ": 0,
		} {
			if g, ok := got[name]; !ok || g != v {
				t.Errorf("%s= %v (present %t), want %v", name, g, ok, v)
			}
		}
	})
}
