package daemon

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/vrrp"
)

const vrrpOnlyHCL = `
vrrp "VI_1" {
  interface         = "lo"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  virtual_ips       = ["192.0.2.100/24"]
}
`

// start builds the daemon of the lab's file and applies it, as Run does.
func (l *lab) start(t *testing.T) *Daemon {
	t.Helper()
	cfg := l.load(t)
	d, err := New(t.Context(), cfg, l.Host(), Options{Log: quiet, Version: "test"})
	if err == nil {
		d.mu.Lock()
		err = d.apply(cfg, nil)
		d.mu.Unlock()
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// vipMetrics reads the VIP metrics of instance VI_1 by name (without the
// lvsd_vrrp_ prefix).
func vipMetrics(t *testing.T, d *Daemon) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics{d})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		name, ok := strings.CutPrefix(mf.GetName(), "lvsd_vrrp_")
		if !ok || !strings.Contains(name, "vip") {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == "VI_1" {
				out[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// Status and metrics say what the interface holds: the VIPs configured
// and present, a MASTER without its VIP while adding it fails (EMFILE),
// the failure, and the hand-over after something else removed the VIP.
func TestStatusTellsWhatTheInterfaceHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLab(t)
		l.write(t, vrrpOnlyHCL)
		d := l.start(t)
		defer d.stop()
		time.Sleep(10 * time.Second)
		in := d.Status().Instances[0]
		if in.State != "MASTER" || !slices.Equal(in.VIPsConfigured, []string{"192.0.2.100/24"}) ||
			!slices.Equal(in.VIPsPresent, []string{"192.0.2.100/24"}) || in.MasterWithoutVIPs || in.VIPError != "" {
			t.Fatalf("status as master: %+v", in)
		}
		want := map[string]float64{"vips_configured": 1, "vips_present": 1, "master_without_vips": 0, "backup_with_vips": 0, "vip_errors_total": 0, "vips_lost_total": 0}
		if got := vipMetrics(t, d); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("metrics as master: %v, want %v", got, want)
		}

		// Something else removes the VIP while the kernel refuses to add
		// it back: alone, the instance hands over, takes mastership back
		// after master_down, and says it holds no VIP.
		l.host.FailVIPs(syscall.EMFILE)
		l.host.DeleteVIP("lo", vip)
		time.Sleep(vrrp.MasterDown(vrrp.V3, 150, time.Second) + time.Second)
		in = d.Status().Instances[0]
		if in.State != "MASTER" || len(in.VIPsPresent) != 0 || !in.MasterWithoutVIPs || !strings.Contains(in.VIPError, "too many open files") ||
			in.VIPsLost != 1 || in.VIPErrors == 0 {
			t.Fatalf("status as master without its VIP: %+v", in)
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"vips_configured", "vips_present", "master_without_vips", "backup_with_vips", "vip_error", "vip_errors", "vips_lost"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("status JSON lacks %q: %s", k, b)
			}
		}
		got := vipMetrics(t, d)
		if got["vips_present"] != 0 || got["master_without_vips"] != 1 || got["vips_lost_total"] != 1 || got["vip_errors_total"] == 0 {
			t.Errorf("metrics as master without its VIP: %v", got)
		}

		// The kernel takes it again: the retry adds it.
		l.host.FailVIPs(nil)
		time.Sleep(6 * time.Second)
		in = d.Status().Instances[0]
		if !l.host.Holds(vip) || in.MasterWithoutVIPs || in.VIPError != "" || !slices.Equal(in.VIPsPresent, []string{"192.0.2.100/24"}) {
			t.Errorf("status after the retry: %+v", in)
		}
		if got := vipMetrics(t, d); got["vips_present"] != 1 || got["master_without_vips"] != 0 {
			t.Errorf("metrics after the retry: %v", got)
		}
	})
}
