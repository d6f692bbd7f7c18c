package lvsdtest

import (
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// Status mirrors the reply of `lvsd status --json` (cmd/lvsd: statusReply,
// instanceStatus, serviceStatus, syncStatus). It lives here only until the
// daemon's own types are importable from internal/control; Daemon.Status is
// the one place that decodes it.
type Status struct {
	RouterID       string          `json:"router_id"`
	Version        string          `json:"version"`
	PID            int             `json:"pid"`
	Config         string          `json:"config"`
	Started        time.Time       `json:"started"`
	Reloads        uint64          `json:"reloads"`
	ReloadFailures uint64          `json:"reload_failures"`
	Instances      []Instance      `json:"instances"`
	VirtualServers []VirtualServer `json:"virtual_servers"`
	Sync           *Sync           `json:"connection_sync"`
}

// Instance is one VRRP instance.
type Instance struct {
	Name              string            `json:"name"`
	Interface         string            `json:"interface"`
	VRID              uint8             `json:"vrid"`
	Version           int               `json:"version"`
	State             string            `json:"state"`
	Priority          uint8             `json:"priority"`
	EffectivePriority uint8             `json:"effective_priority"`
	Master            string            `json:"master"`
	MasterInterval    string            `json:"master_interval"`
	VIPs              []string          `json:"vips"`
	LastTransition    *Transition       `json:"last_transition"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Transitions       uint64            `json:"transitions"`
	Reasserts         uint64            `json:"reasserts"`
	Drops             map[string]uint64 `json:"drops"`
	Faults            []string          `json:"faults"`
}

// Transition is an instance's last state change.
type Transition struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
}

// VirtualServer is one virtual server of the director.
type VirtualServer struct {
	Name        string       `json:"name"`
	Service     string       `json:"service"`
	Scheduler   string       `json:"scheduler"`
	Forwarding  string       `json:"forwarding"`
	Quorum      int          `json:"quorum"`
	Healthy     int          `json:"healthy_weight"`
	SorryActive bool         `json:"sorry_server_active"`
	QuorumMet   bool         `json:"quorum_met"`
	RealServers []RealServer `json:"real_servers"`
}

// RealServer is one real server of a virtual server.
type RealServer struct {
	Address     string    `json:"address"`
	Transitions uint64    `json:"transitions"`
	Weight      int       `json:"weight"`
	Forwarding  string    `json:"forwarding"`
	Healthy     bool      `json:"healthy"`
	Check       string    `json:"check"`
	Since       time.Time `json:"since"`
	LastCheck   time.Time `json:"last_check"`
	LastResult  string    `json:"last_result"`
	Latency     string    `json:"latency"`
}

// Sync is the connection synchronisation block.
type Sync struct {
	Instance  string        `json:"instance"`
	Master    bool          `json:"following_master"`
	Daemons   []string      `json:"daemons"`
	LastError string        `json:"last_error"`
	Observed  *SyncObserved `json:"observed"`
}

// SyncObserved is what the sync observer saw on the wire.
type SyncObserved struct {
	Group     string            `json:"group"`
	Peers     []SyncPeer        `json:"peers"`
	Malformed map[string]uint64 `json:"malformed"`
}

// SyncPeer is one master seen sending sync messages.
type SyncPeer struct {
	Address     string    `json:"address"`
	SyncID      uint8     `json:"sync_id"`
	Messages    uint64    `json:"messages"`
	Connections uint64    `json:"connections"`
	Errors      uint64    `json:"errors"`
	LastSeen    time.Time `json:"last_seen"`
}

// Status asks the daemon over its control socket, as `lvsd status --json`
// does.
func (d *Daemon) Status() (*Status, error) {
	c, err := net.DialTimeout("unix", d.Socket, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(`{"command":"status"}` + "\n")); err != nil {
		return nil, err
	}
	var reply struct {
		OK     bool    `json:"ok"`
		Error  string  `json:"error"`
		Status *Status `json:"status"`
	}
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return nil, fmt.Errorf("status on %s: %w", d.Socket, err)
	}
	if !reply.OK || reply.Status == nil {
		return nil, fmt.Errorf("status on %s: %s", d.Socket, reply.Error)
	}
	return reply.Status, nil
}
