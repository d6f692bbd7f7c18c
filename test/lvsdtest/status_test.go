package lvsdtest

import (
	"bufio"
	"net"
	"path/filepath"
	"testing"
)

// TestStatus decodes a control socket reply shaped as lvsd writes it (a
// trimmed `lvsd status --json`), and an error reply.
func TestStatus(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lvsd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	replies := []string{
		`{"ok":true,"status":{"router_id":"dir-a","reloads":1,"reload_failures":1,` +
			`"instances":[{"name":"VI_1","state":"MASTER","effective_priority":150,"transitions":2,"drops":{"ttl":1},"vips":["192.0.2.100/24"]}],` +
			`"virtual_servers":[{"name":"web","real_servers":[{"address":"192.0.2.21:80","healthy":true}]}],` +
			`"connection_sync":{"following_master":true,"daemons":["master"],"observed":{"peers":[{"connections":3},{"connections":4}]}}}}`,
		`{"ok":false,"error":"not ready"}`,
	}
	go func() {
		for _, r := range replies {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != `{"command":"status"}`+"\n" {
				t.Errorf("request %q, %v", line, err)
			}
			c.Write([]byte(r + "\n"))
			c.Close()
		}
	}()
	d := &Daemon{Socket: sock}
	s, err := d.Status()
	if err != nil {
		t.Fatal(err)
	}
	in := s.Instances[0]
	if s.RouterID != "dir-a" || s.Reloads != 1 || s.ReloadFailures != 1 || in.State != "MASTER" || in.EffectivePriority != 150 ||
		in.Transitions != 2 || in.Drops["ttl"] != 1 || !s.Services[0].RealServers[0].Healthy ||
		!s.Sync.Master || len(s.Sync.Observed.Peers) != 2 || s.Sync.Observed.Peers[1].Connections != 4 {
		t.Errorf("decoded %+v", s)
	}
	if _, err := d.Status(); err == nil {
		t.Error("an error reply decodes")
	}
}
