package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The retry of a VIP operation that failed: soon at first (a passing
// EMFILE or ENOBUFS), then less often, never slower than vipRetryMax, for
// as long as the interface does not hold what the state says.
const (
	vipRetryMin = 100 * time.Millisecond
	vipRetryMax = 5 * time.Second
	// shutdownRetries and shutdownWait bound the removal's retries at
	// stop: the daemon is going away, instances stop one after another,
	// and a stop must not hang on the kernel past the service manager's
	// patience (a few hundred ms per instance at most).
	shutdownRetries = 3
	shutdownWait    = 100 * time.Millisecond
)

func (in *Instance) allVIPs() []netip.Prefix { return allVIPsOf(in.cfg) }

// addVIPs makes the interface hold every VIP (the state is MASTER).
func (in *Instance) addVIPs() {
	in.wantVIPs = true
	in.foreign = nil // ours now
	in.holdVIPs()
}

// removeVIPs makes the interface hold none of the VIPs.
func (in *Instance) removeVIPs() {
	in.wantVIPs = false
	in.holdVIPs()
}

// holdVIPs makes the interface hold what the state says: every VIP while
// master, none otherwise, and none of those a reload dropped. A failure
// (EMFILE at a takeover left a master advertising without its VIPs) is
// retried with backoff until it succeeds or the state changes; status
// shows it meanwhile. It reports whether the interface holds what the
// state says now.
func (in *Instance) holdVIPs() bool {
	err := in.applyVIPs()
	if err == nil {
		if in.vipErr != nil {
			in.log.Info("virtual IPs now as the state says", "state", in.state, "held", in.wantVIPs, "attempts", in.vipAttempts+1)
		}
		in.vipErr, in.vipWait, in.vipAttempts = nil, 0, 0
		in.vipRetry.Stop()
		return true
	}
	in.vipErrors++
	in.vipAttempts++
	in.vipErr = err
	in.vipWait = min(max(2*in.vipWait, vipRetryMin), vipRetryMax)
	in.vipRetry.Reset(in.vipWait)
	in.log.Error("virtual IPs not as the state says; retrying", "state", in.state, "held", in.wantVIPs, "retry_in", in.vipWait, "err", err)
	return false
}

func (in *Instance) applyVIPs() error {
	var errs []error
	if len(in.stale) > 0 {
		if err := in.deps.Addresser.RemoveVIPs(in.cfg.Interface, in.stale); err != nil {
			errs = append(errs, fmt.Errorf("removing virtual IPs no longer configured: %w", err))
		} else {
			in.stale = nil
		}
	}
	if in.wantVIPs {
		if err := in.deps.Addresser.AddVIPs(in.cfg.Interface, in.allVIPs()); err != nil {
			errs = append(errs, fmt.Errorf("adding virtual IPs: %w", err))
		}
	} else if err := in.deps.Addresser.RemoveVIPs(in.cfg.Interface, in.allVIPs()); err != nil {
		errs = append(errs, fmt.Errorf("removing virtual IPs: %w", err))
	}
	return errors.Join(errs...)
}

// retryVIPs is the retry timer's event.
func (in *Instance) retryVIPs() {
	if in.holdVIPs() && in.wantVIPs {
		// The VIPs are on the interface only now: the bursts of the
		// takeover named addresses nobody answered for.
		in.announce()
	}
}

// stopVIPs gives the VIPs up at stop, retrying a failure a few times.
func (in *Instance) stopVIPs() {
	in.wantVIPs = false
	for i := 0; !in.holdVIPs() && i < shutdownRetries; i++ {
		time.Sleep(shutdownWait) // not the backoff: that may have grown to vipRetryMax
	}
	in.vipRetry.Stop()
}

// presentVIPs returns the configured VIPs the interface holds now, as the
// kernel says (not as the state says).
func (in *Instance) presentVIPs() ([]netip.Prefix, error) {
	addrs, err := in.deps.Addresser.Addrs(in.cfg.Interface)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, p := range in.allVIPs() {
		if slices.Contains(addrs, p.Addr()) {
			out = append(out, p)
		}
	}
	return out, nil
}

// checkVIPs is the address watch's report that the addresses of the
// instance's interface changed. A VIP gone from a master was removed by
// something else (ip addr del, a network manager, a DHCP client): the
// instance hands over as keepalived >= 2.0 does. A VIP that appears while
// not master is reported, not removed: keepalived leaves it too, and
// whoever added it may mean it (a test, a migration); status and metrics
// show it until it goes.
func (in *Instance) checkVIPs() {
	if in.vipErr != nil {
		return // the retry is on it: what is missing or extra is ours to mend
	}
	present, err := in.presentVIPs()
	if err != nil {
		// Never act on a failed read: a hand-over for nothing costs a
		// failover.
		in.log.Warn("reading the addresses of the interface", "interface", in.cfg.Interface, "err", err)
		return
	}
	if in.wantVIPs {
		if missing := diffPrefixes(present, in.allVIPs()); in.state == Master && len(missing) > 0 {
			in.vipsRemoved(missing)
		}
		return
	}
	if added := diffPrefixes(in.foreign, present); len(added) > 0 {
		in.log.Warn("virtual IP on the interface while not master: added by something else; left there (as keepalived does), but this host answers for it too",
			"state", in.state, "vips", prefixList(added), "interface", in.cfg.Interface)
	}
	in.foreign = present
}

// vipsRemoved hands over from a master whose VIPs something else removed:
// priority 0, so that a backup takes over after Skew_Time (RFC 5798
// §6.4.3), the other VIPs removed with them, and every VIP added again at
// the next mastership, after master_down if no backup answers.
func (in *Instance) vipsRemoved(missing []netip.Prefix) {
	in.vipsLost++
	cause := fmt.Sprintf("virtual IP %s removed from %s by something else; handing over (priority 0)", prefixList(missing), in.cfg.Interface)
	in.log.Warn("virtual IP removed from a master by something else: handing over; every VIP is added again at the next mastership",
		"vips", prefixList(missing), "interface", in.cfg.Interface)
	in.resign(cause, "no advert from a master for master_down after a VIP was removed by something else; taking the VIPs back")
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// AddressesChanged tells the instance that the addresses of its interface
// changed (the node's address watch); it reads them and acts.
func (in *Instance) AddressesChanged() { in.do(in.checkVIPs) }

// vipStatus fills the VIP fields of a status snapshot: what the kernel
// holds, read now, beside what the state says.
func (in *Instance) vipStatus(s *Status) {
	s.VIPsConfigured = in.allVIPs()
	s.VIPErrors, s.VIPsLost = in.vipErrors, in.vipsLost
	var errs []string
	if in.vipErr != nil {
		errs = append(errs, in.vipErr.Error())
	}
	present, err := in.presentVIPs()
	if err != nil {
		errs = append(errs, "reading the addresses of "+in.cfg.Interface+": "+err.Error())
	} else {
		s.VIPsPresent = present
		s.MasterWithoutVIPs = in.state == Master && len(present) < len(s.VIPsConfigured)
		s.BackupWithVIPs = in.state != Master && len(present) > 0
	}
	s.VIPError = strings.Join(errs, "; ")
}
