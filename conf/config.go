// Package conf turns an lvsd HCL file into a typed, validated Config. Each
// domain package owns its configuration types; conf fills them, applies
// the defaults in one place, and reports every problem of a file with its
// file, line and column. It imports the domain packages only (never
// internal/* or cmd); the keepalived importer is conf/keepalived.
package conf

import (
	"log/slog"
	"net/netip"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/ipvs"
	"github.com/lvsd/lvsd/vrrp"

	lvsync "github.com/lvsd/lvsd/sync"
)

// Config is a whole, valid configuration. It is built once by Load and
// never changed afterwards: a reload builds a new one.
type Config struct {
	File           string
	Global         Global
	Instances      []vrrp.Config
	TrackScripts   []vrrp.TrackScript
	SyncGroups     []vrrp.SyncGroup
	ConnectionSync *ConnectionSync // nil: no connection sync
	VirtualServers []VirtualServer
}

// RealServerCount is the number of real servers over all virtual servers.
func (c *Config) RealServerCount() int {
	n := 0
	for _, vs := range c.VirtualServers {
		n += len(vs.RealServers)
	}
	return n
}

// Global holds the daemon-wide settings.
type Global struct {
	RouterID      string
	ControlSocket string
	MetricsListen string // empty: no metrics listener
	ScriptUser    string
	LogLevel      slog.Level
	LogFormat     LogFormat
	FlushOnStop   bool
	IPVSTimeouts  ipvs.Timeouts
}

// LogFormat is the log line format.
type LogFormat string

const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// ConnectionSync is the kernel sync daemon and the instance it follows.
type ConnectionSync struct {
	// Instance whose state decides master or backup; empty: run both.
	Instance string
	Daemon   lvsync.Config
}

// VirtualServer is one IPVS service with its real servers and the
// director's policy for them.
type VirtualServer struct {
	Name             string
	Service          ipvs.Service
	Forwarding       ipvs.Forwarding // default of its real servers and the sorry server
	Quorum           int             // healthy weight needed to keep the service up
	Hysteresis       int
	SorryServer      *ipvs.Destination // nil: none
	InhibitOnFailure bool
	RealServers      []RealServer
}

// RealServer is one destination and how its health is decided.
type RealServer struct {
	Destination ipvs.Destination
	Check       *healthcheck.Config // nil: no check, always up
	NotifyUp    []string
	NotifyDown  []string
}

// Defaults that are not obvious from the contract.
const (
	DefaultControlSocket = "/run/lvsd/lvsd.sock"
	DefaultScriptUser    = "nobody"
)

// Address returns the service's address and port ("" for fwmark services).
func (vs *VirtualServer) Address() netip.AddrPort {
	return netip.AddrPortFrom(vs.Service.Address, vs.Service.Port)
}
