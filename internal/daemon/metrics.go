package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsd/lvsd/ipvs"
)

// metrics exposes the daemon's state to Prometheus. It reads the same
// snapshot as `lvsd status` at each scrape, so the two never disagree and
// nothing in the domain packages is instrumented. Labels are bounded by
// the configuration (instances, services, real servers, drop reasons,
// socket interfaces) and
// by the sync observer's peer cap.
type metrics struct{ d *Daemon }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("lvsd_"+name, help, labels, nil)
}

var (
	mVRRPState   = desc("vrrp_state", "VRRP state: 0 init, 1 backup, 2 master, 3 fault.", "instance")
	mVRRPMaster  = desc("vrrp_master", "1 while the instance is master.", "instance")
	mVRRPPrio    = desc("vrrp_priority", "Priority, configured and effective (after track_script weights).", "instance", "kind")
	mVRRPTrans   = desc("vrrp_transitions_total", "State transitions since lvsd started.", "instance")
	mVRRPSent    = desc("vrrp_adverts_sent_total", "Adverts sent.", "instance")
	mVRRPRecv    = desc("vrrp_adverts_received_total", "Adverts received and accepted.", "instance")
	mVRRPDrops   = desc("vrrp_adverts_dropped_total", "Adverts dropped, by reason.", "instance", "reason")
	mVRRPUnknown = desc("vrrp_socket_unknown_vrid_total", "Adverts received for a VRID no instance here runs, by socket.", "interface", "family")
	mVRRPKDrops  = desc("vrrp_socket_kernel_drops_total", "Packets the kernel dropped on the VRRP socket before lvsd read them (receive buffer full).", "interface", "family")
	mVIPsConf    = desc("vrrp_vips_configured", "VIPs configured (virtual_ips and virtual_ips_excluded).", "instance")
	mVIPsPresent = desc("vrrp_vips_present", "Configured VIPs on the interface now, as the kernel says.", "instance")
	mVIPsMissing = desc("vrrp_master_without_vips", "1 while the instance is MASTER and a VIP is not on the interface.", "instance")
	mVIPsStray   = desc("vrrp_backup_with_vips", "1 while the instance is not MASTER and a VIP is on the interface.", "instance")
	mVIPErrors   = desc("vrrp_vip_errors_total", "VIP operations (add, remove) that failed; each is retried.", "instance")
	mVIPsLost    = desc("vrrp_vips_lost_total", "Hand-overs because something else removed a VIP from the master.", "instance")
	mRSUp        = desc("real_server_up", "1 while the real server is healthy.", "service", "server")
	mRSTrans     = desc("real_server_transitions_total", "Health changes since lvsd started.", "service", "server")
	mRSLatency   = desc("real_server_check_latency_seconds", "Latency of the last check.", "service", "server")
	mSvcQuorum   = desc("service_quorum_met", "1 while the service's healthy weight meets its quorum.", "service")
	mSvcConns    = desc("service_connections", "Connections in the kernel's table, active or inactive.", "service", "state")
	mSvcRate     = desc("service_rate", "The kernel's rate estimates: connections, packets and bytes per second.", "service", "kind")
	mSyncMsgs    = desc("sync_messages_total", "Sync messages the observer received, by sender.", "peer")
	mSyncConns   = desc("sync_connections_total", "Connection entries in them, by sender.", "peer")
	mSyncErrors  = desc("sync_malformed_total", "Malformed sync datagrams, by kind.", "kind")
	mReloads     = desc("reloads_total", "Reloads, by result.", "result")
	mUp          = desc("up", "1: the daemon answers.")
	mIPVSDrift   = desc("ipvs_drift_total", "Times the IPVS table was found changed outside lvsd (ipvsadm, another tool) and mended.")
	stateNumbers = map[string]float64{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}
)

func (m metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mVRRPState, mVRRPMaster, mVRRPPrio, mVRRPTrans, mVRRPSent, mVRRPRecv, mVRRPDrops,
		mVRRPUnknown, mVRRPKDrops, mVIPsConf, mVIPsPresent, mVIPsMissing, mVIPsStray, mVIPErrors, mVIPsLost,
		mRSUp, mRSTrans, mRSLatency, mSvcQuorum, mSvcConns, mSvcRate, mSyncMsgs, mSyncConns, mSyncErrors, mReloads, mUp, mIPVSDrift} {
		ch <- d
	}
}

func (m metrics) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	s := m.d.Status()
	gauge(mUp, 1)
	counter(mReloads, float64(s.Reloads), "success")
	counter(mReloads, float64(s.ReloadFailures), "failure")
	for _, in := range s.Instances {
		gauge(mVRRPState, stateNumbers[in.State], in.Name)
		gauge(mVRRPMaster, b(in.State == "MASTER"), in.Name)
		gauge(mVRRPPrio, float64(in.Priority), in.Name, "configured")
		gauge(mVRRPPrio, float64(in.EffectivePriority), in.Name, "effective")
		counter(mVRRPTrans, float64(in.Transitions), in.Name)
		counter(mVRRPSent, float64(in.AdvertsSent), in.Name)
		counter(mVRRPRecv, float64(in.AdvertsReceived), in.Name)
		for reason, n := range in.Drops {
			counter(mVRRPDrops, float64(n), in.Name, reason)
		}
		gauge(mVIPsConf, float64(len(in.VIPsConfigured)), in.Name)
		gauge(mVIPsPresent, float64(len(in.VIPsPresent)), in.Name)
		gauge(mVIPsMissing, b(in.MasterWithoutVIPs), in.Name)
		gauge(mVIPsStray, b(in.BackupWithVIPs), in.Name)
		counter(mVIPErrors, float64(in.VIPErrors), in.Name)
		counter(mVIPsLost, float64(in.VIPsLost), in.Name)
	}
	for _, so := range s.Sockets {
		counter(mVRRPUnknown, float64(so.UnknownVRID), so.Interface, so.Family)
		counter(mVRRPKDrops, float64(so.KernelDrops), so.Interface, so.Family)
	}
	for _, vs := range s.Services {
		gauge(mSvcQuorum, b(vs.QuorumMet), vs.Name)
		for _, rs := range vs.RealServers {
			gauge(mRSUp, b(rs.Healthy), vs.Name, rs.Address)
			counter(mRSTrans, float64(rs.Transitions), vs.Name, rs.Address)
			if rs.LatencyValue > 0 {
				gauge(mRSLatency, rs.LatencyValue.Seconds(), vs.Name, rs.Address)
			}
		}
	}
	m.kernelStats(gauge)
	m.ipvsDrift(counter)
	if cs := s.Sync; cs != nil && cs.Observed != nil {
		for _, p := range cs.Observed.Peers {
			counter(mSyncMsgs, float64(p.Messages), p.Address)
			counter(mSyncConns, float64(p.Connections), p.Address)
		}
		for kind, n := range cs.Observed.Malformed {
			counter(mSyncErrors, float64(n), kind)
		}
	}
}

// kernelStats adds each configured service's connections and rates from
// the kernel's table.
func (m metrics) kernelStats(gauge func(*prometheus.Desc, float64, ...string)) {
	m.d.mu.Lock()
	dir := m.d.director
	m.d.mu.Unlock()
	if dir == nil {
		return
	}
	sr, ok := dir.Kernel().(ipvs.StatsReader)
	if !ok {
		return
	}
	stats, err := sr.Stats()
	if err != nil {
		return
	}
	names := dir.ServiceNames()
	for _, st := range stats {
		name, ok := names[st.Service.Key()]
		if !ok {
			continue // not ours: no unbounded labels from the kernel
		}
		var active, inactive int
		for _, d := range st.Destinations {
			active += d.ActiveConns
			inactive += d.InactiveConns
		}
		gauge(mSvcConns, float64(active), name, "active")
		gauge(mSvcConns, float64(inactive), name, "inactive")
		c := st.Counters
		for kind, v := range map[string]uint64{"cps": c.CPS, "in_pps": c.PPSIn, "out_pps": c.PPSOut, "in_bps": c.BPSIn, "out_bps": c.BPSOut} {
			gauge(mSvcRate, float64(v), name, kind)
		}
	}
}

// ipvsDrift counts the outside changes to the IPVS table the director
// mended; none without a director (no virtual servers, no table).
func (m metrics) ipvsDrift(counter func(*prometheus.Desc, float64, ...string)) {
	m.d.mu.Lock()
	dir := m.d.director
	m.d.mu.Unlock()
	if dir == nil {
		return
	}
	var n uint64
	if dr := dir.Drift(); dr != nil {
		n = dr.Count
	}
	counter(mIPVSDrift, float64(n))
}
