package conf

import (
	"github.com/hashicorp/hcl/v2"

	lvsync "github.com/lvsd/lvsd/sync"
)

var connSyncSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "interface", Required: true}, {Name: "instance"}, {Name: "sync_id"},
		{Name: "group"}, {Name: "port"}, {Name: "ttl"}, {Name: "max_len"},
	},
}

type connSyncSrc struct {
	cfg ConnectionSync
	a   attrs
}

func (d *decoder) connectionSync(b *hcl.Block) *connSyncSrc {
	cs := ConnectionSync{Daemon: lvsync.Config{
		Group:  lvsync.DefaultGroup,
		Port:   lvsync.DefaultPort,
		TTL:    lvsync.DefaultTTL,
		MaxLen: lvsync.DefaultMaxLen,
	}}
	a, _ := d.content(b.Body, connSyncSchema)
	a.iface("interface", &cs.Daemon.Interface)
	a.str("instance", &cs.Instance)
	var n int
	if a.integer("sync_id", 0, 255, &n) {
		cs.Daemon.SyncID = uint8(n)
	}
	if a.addr("group", &cs.Daemon.Group) && !cs.Daemon.Group.IsMulticast() {
		d.errorf(a.rng("group"), "group is not a multicast address", "the sync daemon sends to a multicast group, like 224.0.0.81")
	}
	if a.integer("port", 1, 65535, &n) {
		cs.Daemon.Port = uint16(n)
	}
	if a.integer("ttl", 1, 255, &n) {
		cs.Daemon.TTL = uint8(n)
	}
	if a.integer("max_len", lvsync.MinMaxLen, lvsync.MaxMaxLen, &n) {
		cs.Daemon.MaxLen = uint16(n)
	}
	return &connSyncSrc{cfg: cs, a: a}
}

// connSyncRefs resolves the followed instance and the sync id it implies.
func (d *decoder) connSyncRefs(cs *connSyncSrc, byName map[string]*instanceSrc) {
	if cs.cfg.Instance == "" {
		return
	}
	in := byName[cs.cfg.Instance]
	if in == nil {
		d.errorf(cs.a.rng("instance"), "Unknown instance", "connection_sync follows vrrp instance %q, which is not defined", cs.cfg.Instance)
		return
	}
	if !cs.a.has("sync_id") {
		cs.cfg.Daemon.SyncID = in.cfg.VRID
	}
}
