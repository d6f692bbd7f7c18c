package doctor

import (
	"fmt"
	"syscall"
	"testing"
)

func TestDoctorVIPHeld(t *testing.T) {
	vipOn := func(h *fakeHost, link string, p string) {
		h.setLink(link, func(l *Link) { l.Addrs = append(l.Addrs, docPrefix(p)) })
	}
	status := func(state string) map[string]string {
		return map[string]string{"VI_1": state}
	}
	cases := []struct {
		name string
		mod  func(*fakeHost)
		sev  Severity
		text []string
	}{
		{"absent, lvsd stopped", func(h *fakeHost) {}, OK, []string{"not on this host outside lvsd"}},
		{"on eth0, lvsd stopped", func(h *fakeHost) { vipOn(h, "eth0", "192.0.2.100/24") },
			Problem, []string{"VIP 192.0.2.100 of VI_1 is on eth0 but lvsd is not running: something else holds it", "fix: ip addr del 192.0.2.100/24 dev eth0"}},
		{"on eth0, lvsd MASTER", func(h *fakeHost) { vipOn(h, "eth0", "192.0.2.100/24"); h.daemon = status("MASTER") },
			OK, []string{"held only by the running lvsd, which is MASTER"}},
		{"on eth0, lvsd BACKUP", func(h *fakeHost) { vipOn(h, "eth0", "192.0.2.100/24"); h.daemon = status("BACKUP") },
			Problem, []string{"lvsd has VI_1 in BACKUP, not MASTER"}},
		{"absent, lvsd BACKUP", func(h *fakeHost) { h.daemon = status("BACKUP") },
			OK, []string{"the running lvsd has it in BACKUP"}},
		{"on lo, lvsd MASTER", func(h *fakeHost) { vipOn(h, "lo", "192.0.2.100/32"); h.daemon = status("MASTER") },
			Problem, []string{"is on lo but not on eth0 where lvsd puts it", "fix: ip addr del 192.0.2.100/32 dev lo"}},
		{"socket not ours", func(h *fakeHost) {
			vipOn(h, "eth0", "192.0.2.100/24")
			h.daemonErr = fmt.Errorf("cannot reach lvsd: %w", syscall.EACCES)
		}, Warning, []string{"cannot be asked"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, cfg := docGoodDirector(), docDRConfig()
			c.mod(host)
			fs := docReport(t, host, func(d *doctor) { d.checkVIPsHeld(cfg) })
			docWant(t, fs, c.sev, c.text...)
		})
	}
}

func TestDoctorKeepalived(t *testing.T) {
	host := docGoodDirector()
	host.procs = map[string][]int{"keepalived": {812, 813}}
	fs := docReport(t, host, func(d *doctor) { d.checkKeepalived(docDRConfig()) })
	docWant(t, fs, Warning, "keepalived runs in this network namespace (pid 812, 813)", "fix: systemctl disable --now keepalived")
}
