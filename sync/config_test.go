package sync

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Master: "master", Backup: "backup", 0: "state(0)", 3: "state(3)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", uint32(s), got, want)
		}
	}
	if State(0).Valid() || !Master.Valid() || !Backup.Valid() || State(3).Valid() {
		t.Error("Valid: only master (1) and backup (2) are states")
	}
}

func TestWithDefaults(t *testing.T) {
	got := Config{Interface: "eth0", SyncID: 7}.WithDefaults()
	want := Config{Interface: "eth0", SyncID: 7, Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 1472}
	if got != want {
		t.Errorf("WithDefaults = %+v, want %+v", got, want)
	}
	set := Config{Interface: "eth1", Group: netip.MustParseAddr("233.252.0.81"), Port: 1, TTL: 9, MaxLen: 9000}
	if got := set.WithDefaults(); got != set {
		t.Errorf("WithDefaults changed set parameters: %+v", got)
	}
}

func TestValidate(t *testing.T) {
	ok := []Config{
		{Interface: "eth0"},
		{Interface: "fifteen-bytes-x", Group: netip.MustParseAddr("ff02::81")},
		{Interface: "eth0", Group: netip.MustParseAddr("239.1.2.3")},
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", c, err)
		}
	}
	bad := []struct {
		c    Config
		want string
	}{
		{Config{}, "no interface"},
		{Config{Interface: "sixteen-bytes-xx"}, "longer than 15"},
		{Config{Interface: "eth0", Group: netip.MustParseAddr("192.0.2.1")}, "not a multicast"},
		{Config{Interface: "eth0", Group: netip.MustParseAddr("2001:db8::1")}, "not a multicast"},
		{Config{Interface: "eth0", Group: netip.MustParseAddr("::ffff:224.0.0.81")}, "plain IPv4 or IPv6"},
		{Config{Interface: "eth0", Group: netip.MustParseAddr("ff02::81%eth0")}, "plain IPv4 or IPv6"},
	}
	for _, b := range bad {
		err := b.c.Validate()
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig saying %q", b.c, err, b.want)
		}
	}
}

func TestEffective(t *testing.T) {
	g6 := netip.MustParseAddr("ff02::81")
	cases := []struct {
		name string
		in   Config
		s    State
		want Config
	}{
		{"zero master", Config{Interface: "e"}, Master, Config{Interface: "e", Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 1472}},
		{"zero backup", Config{Interface: "e"}, Backup, Config{Interface: "e", Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 1472}},
		{"zero v6", Config{Interface: "e", Group: g6}, Master, Config{Interface: "e", Group: g6, Port: 8848, TTL: 1, MaxLen: 1452}},
		{"small master kept", Config{Interface: "e", MaxLen: 200}, Master, Config{Interface: "e", Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 200}},
		{"small backup raised", Config{Interface: "e", MaxLen: 200}, Backup, Config{Interface: "e", Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 1024}},
		{"huge v4 clamped", Config{Interface: "e", MaxLen: 65535}, Master, Config{Interface: "e", Group: DefaultGroup, Port: 8848, TTL: 1, MaxLen: 65507}},
		{"huge v6 clamped", Config{Interface: "e", Group: g6, MaxLen: 65500}, Backup, Config{Interface: "e", Group: g6, Port: 8848, TTL: 1, MaxLen: 65487}},
		{"set kept", Config{Interface: "e", SyncID: 9, Group: g6, Port: 1, TTL: 255, MaxLen: 9000}, Backup, Config{Interface: "e", SyncID: 9, Group: g6, Port: 1, TTL: 255, MaxLen: 9000}},
	}
	for _, c := range cases {
		if got := c.in.Effective(c.s); got != c.want {
			t.Errorf("%s: Effective(%s) = %+v, want %+v", c.name, c.s, got, c.want)
		}
	}
}

func TestDaemonString(t *testing.T) {
	d := Daemon{State: Backup, Config: Config{Interface: "eth0", SyncID: 51}.WithDefaults()}
	want := "backup sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"
	if got := d.String(); got != want {
		t.Errorf("String = %q, want ipvsadm's %q", got, want)
	}
}
