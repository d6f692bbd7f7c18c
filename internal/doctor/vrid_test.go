package doctor

import (
	"errors"
	"testing"
	"time"

	"github.com/lvsd/lvsd/vrrp"
)

func TestDoctorVRIDs(t *testing.T) {
	advert := func(src string, vrid uint8, v vrrp.Version, vips ...string) Advert {
		a := vrrp.Advert{Version: v, VRID: vrid, Priority: 100, Interval: time.Second}
		for _, s := range vips {
			a.Addrs = append(a.Addrs, docAddr(s))
		}
		return Advert{Interface: "eth0", Src: docAddr(src), TTL: 255, Advert: a}
	}
	cases := []struct {
		name  string
		heard []Advert
		sev   Severity
		text  []string
	}{
		{"silence", nil, OK, []string{"VRID 51 of VI_1 on eth0: listened 3s, heard no other router with it"}},
		{"the peer", []Advert{advert("192.0.2.12", 51, vrrp.V3, "192.0.2.100"), advert("192.0.2.12", 51, vrrp.V3, "192.0.2.100")},
			OK, []string{"heard it only from 192.0.2.12 with the same VIPs (the peer)"}},
		{"others", []Advert{advert("192.0.2.40", 7, vrrp.V2, "192.0.2.7"), advert("192.0.2.41", 9, vrrp.V3, "192.0.2.9")},
			OK, []string{"other VRIDs in use on eth0: 7 9"}},
		{"collision", []Advert{advert("192.0.2.12", 51, vrrp.V3, "192.0.2.100"), advert("192.0.2.99", 51, vrrp.V3, "192.0.2.200")},
			Problem, []string{"192.0.2.99 advertises VRID 51 on eth0 with 192.0.2.200, not the VIPs of VI_1 (192.0.2.100)", "two virtual routers share VRID 51"}},
		{"version mismatch", []Advert{advert("192.0.2.12", 51, vrrp.V2, "192.0.2.100")},
			Warning, []string{"peer 192.0.2.12 advertises VRID 51 on eth0 as VRRP v2, VI_1 speaks v3"}},
		{"own adverts", []Advert{advert("192.0.2.11", 51, vrrp.V3, "192.0.2.200")}, OK, []string{"heard no other router"}},
		{"not from the link", []Advert{func() Advert {
			a := advert("198.51.100.9", 51, vrrp.V3, "192.0.2.200")
			a.TTL = 254
			return a
		}()}, OK, []string{"heard no other router"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			host.heard = c.heard
			fs := docReport(t, host, func(d *doctor) { d.checkVRIDs(cfg, 3*time.Second) })
			docWant(t, fs, c.sev, c.text...)
			if c.sev == OK && len(fs) != 1 {
				t.Errorf("%d findings, want 1", len(fs))
			}
			if len(host.listened) != 1 || host.listened[0] != (ListenOn{"eth0", false}) || host.listenD != 3*time.Second {
				t.Errorf("listened on %v for %s", host.listened, host.listenD)
			}
		})
	}

	host, cfg := docGoodDirector(), docDRConfig()
	fs := docReport(t, host, func(d *doctor) { d.checkVRIDs(cfg, time.Second) })
	docWant(t, fs, Warning, "listened 1s, less than 3 advert intervals", "--listen 3s")

	host.listenErr = errors.New("raw socket on eth0: operation not permitted")
	fs = docReport(t, host, func(d *doctor) { d.checkVRIDs(cfg, 3*time.Second) })
	docWant(t, fs, Warning, "listening for VRRP adverts: raw socket on eth0: operation not permitted")
}
