package control

import "time"

// Status is the daemon's state as `lvsd status --json` shows it. Field
// names are stable: scripts read them.
type Status struct {
	RouterID       string     `json:"router_id"`
	Version        string     `json:"version"`
	PID            int        `json:"pid"`
	Config         string     `json:"config"`
	Started        time.Time  `json:"started"`
	Reloads        uint64     `json:"reloads"`
	ReloadFailures uint64     `json:"reload_failures"`
	Instances      []Instance `json:"instances"`
	Services       []Service  `json:"virtual_servers,omitempty"`
	Sync           *Sync      `json:"connection_sync,omitempty"`
	// IPVSDrift is every outside change to the IPVS table lvsd mended,
	// those of services it does not know included.
	IPVSDrift *IPVSDrift `json:"ipvs_drift,omitempty"`
	Sockets   []Socket   `json:"sockets,omitempty"`
}

// IPVSDrift is what lvsd found changed in the kernel's IPVS table behind
// its back (ipvsadm by hand, another tool) and mended: the kernel differed
// from what lvsd had last applied, with no health change or reload in
// between.
type IPVSDrift struct {
	Count   uint64    `json:"count"`              // passes that found the table changed
	Ops     uint64    `json:"ops"`                // operations they took to mend it
	Last    time.Time `json:"last,omitzero"`      // when the last one was mended
	LastOps []string  `json:"last_ops,omitempty"` // its operations, the first few
}

// Socket is one VRRP socket (an interface and address family, shared by
// its instances) with what it received that no instance counts.
type Socket struct {
	Interface string `json:"interface"`
	Family    string `json:"family"` // "ipv4" or "ipv6"
	// UnknownVRID counts adverts for a VRID no instance here runs: a
	// peer configured with another VRID, or another cluster on the link.
	UnknownVRID uint64 `json:"unknown_vrid"`
	// KernelDrops counts packets the kernel dropped before lvsd read
	// them (the socket's receive buffer was full), across reopens.
	KernelDrops      uint64 `json:"kernel_drops"`
	KernelDropsError string `json:"kernel_drops_error,omitempty"` // why they could not be read
	Reopens          uint64 `json:"reopens"`
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
	Master            string            `json:"master,omitempty"`
	MasterInterval    string            `json:"master_interval,omitempty"`
	VIPs              []string          `json:"vips"`
	LastTransition    *Transition       `json:"last_transition,omitempty"`
	AdvertsSent       uint64            `json:"adverts_sent"`
	AdvertsReceived   uint64            `json:"adverts_received"`
	Transitions       uint64            `json:"transitions"`
	Reasserts         uint64            `json:"reasserts"`
	Drops             map[string]uint64 `json:"drops"`
	Faults            []string          `json:"faults,omitempty"`
	// What the interface holds, read at the snapshot (VIPs is what the
	// state says): a MASTER without its VIPs, or VIPs on a host that is
	// not MASTER, show here.
	VIPsConfigured    []string `json:"vips_configured"`
	VIPsPresent       []string `json:"vips_present"`
	MasterWithoutVIPs bool     `json:"master_without_vips"`
	BackupWithVIPs    bool     `json:"backup_with_vips"`
	VIPError          string   `json:"vip_error,omitempty"` // why the interface is not as the state says
	VIPErrors         uint64   `json:"vip_errors"`          // VIP operations that failed
	VIPsLost          uint64   `json:"vips_lost"`           // hand-overs: something else removed a VIP from the master
}

// Transition is an instance's last change of state and its cause.
type Transition struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
}

// Service is one virtual server.
type Service struct {
	Name        string       `json:"name"`
	Service     string       `json:"service"`
	Scheduler   string       `json:"scheduler"`
	Forwarding  string       `json:"forwarding"`
	Quorum      int          `json:"quorum"`
	Healthy     int          `json:"healthy_weight"`
	SorryActive bool         `json:"sorry_server_active"`
	QuorumMet   bool         `json:"quorum_met"`
	RealServers []RealServer `json:"real_servers"`
	IPVSDrift   *IPVSDrift   `json:"ipvs_drift,omitempty"` // outside changes to this service, mended
}

// RealServer is one real server of a service with its health.
type RealServer struct {
	Address     string    `json:"address"`
	Transitions uint64    `json:"transitions"`
	Weight      int       `json:"weight"`
	Forwarding  string    `json:"forwarding"`
	Healthy     bool      `json:"healthy"`
	Check       string    `json:"check,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	LastCheck   time.Time `json:"last_check,omitzero"`
	LastResult  string    `json:"last_result,omitempty"`
	Latency     string    `json:"latency,omitempty"`
	// LatencyValue is Latency for the metrics, which read this snapshot.
	LatencyValue time.Duration `json:"-"`
}

// Sync is connection_sync: the kernel's sync daemons and what the
// observer saw of the peer's sync traffic.
type Sync struct {
	Instance  string        `json:"instance,omitempty"`
	Master    bool          `json:"following_master"`
	Daemons   []string      `json:"daemons"`
	LastError string        `json:"last_error,omitempty"`
	Observed  *SyncObserved `json:"observed,omitempty"`
}

// SyncObserved is the sync traffic heard on the group.
type SyncObserved struct {
	Group     string            `json:"group"`
	Peers     []SyncPeer        `json:"peers"`
	Malformed map[string]uint64 `json:"malformed"`
}

// SyncPeer is one sender of sync messages.
type SyncPeer struct {
	Address     string    `json:"address"`
	SyncID      uint8     `json:"sync_id"`
	Messages    uint64    `json:"messages"`
	Connections uint64    `json:"connections"`
	Errors      uint64    `json:"errors"`
	LastSeen    time.Time `json:"last_seen"`
}

// DrillReport is what `lvsd drill` prints: who took over, how fast, and
// what the link and the sync traffic showed.
type DrillReport struct {
	Instance     string `json:"instance"`
	NewMaster    string `json:"new_master,omitempty"`
	TakeoverMS   int64  `json:"takeover_ms"`       // step-down to the new master's first advert
	FirstGARPMS  int64  `json:"first_garp_ms"`     // step-down to its first GARP for a VIP; -1: none seen
	GARPs        int    `json:"garps"`             // GARPs for the VIPs from the new master
	Connections  int    `json:"connections"`       // in this director's IPVS table at step-down; -1: no IPVS
	SyncPeerConn uint64 `json:"sync_connections"`  // connections the sync observer saw from the new master
	HoldS        int64  `json:"hold_s"`            // preemption held back for
	Failure      string `json:"failure,omitempty"` // why the drill failed
}

// Instance returns the instance called name.
func (s *Status) Instance(name string) (Instance, bool) {
	for _, in := range s.Instances {
		if in.Name == name {
			return in, true
		}
	}
	return Instance{}, false
}

// Service returns the virtual server called name.
func (s *Status) Service(name string) (Service, bool) {
	for _, vs := range s.Services {
		if vs.Name == name {
			return vs, true
		}
	}
	return Service{}, false
}
