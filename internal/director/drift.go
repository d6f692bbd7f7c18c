package director

import (
	"slices"
	"time"

	"github.com/lvsd/lvsd/internal/control"
	"github.com/lvsd/lvsd/ipvs"
)

// driftOpsKept is how many operations of the last mended drift status
// shows: enough to tell what was changed, bounded whatever was.
const driftOpsKept = 8

// drift tells an outside change to the IPVS table (ipvsadm by hand,
// another tool) from lvsd's own: a pass whose desired table is the one
// the previous pass applied in full, and that still has operations to
// apply, mends what someone else changed. A health change or a reload
// changes the desired table first, so its operations are not drift.
type drift struct {
	applied  []ipvs.Entry // the desired table of the last pass
	complete bool         // that pass applied every operation it had
	total    control.IPVSDrift
	services map[ipvs.ServiceKey]*control.IPVSDrift // configured services only
}

// note records the pass that applied ops (err: those that failed) towards
// desired, and reports whether they mended drift. d.mu is held.
func (dr *drift) note(desired []ipvs.Entry, ops []ipvs.Op, err error, configured func(ipvs.ServiceKey) bool, at time.Time) bool {
	found := false
	if dr.complete && len(ops) > 0 {
		same, derr := ipvs.Diff(dr.applied, desired)
		found = derr == nil && len(same) == 0
	}
	dr.applied, dr.complete = desired, err == nil
	if !found {
		return false
	}
	addDrift(&dr.total, ops, at)
	byService := map[ipvs.ServiceKey][]ipvs.Op{}
	for _, op := range ops {
		if k := op.Service.Key(); configured(k) {
			byService[k] = append(byService[k], op)
		}
	}
	for k, sops := range byService {
		if dr.services == nil {
			dr.services = map[ipvs.ServiceKey]*control.IPVSDrift{}
		}
		if dr.services[k] == nil {
			dr.services[k] = &control.IPVSDrift{}
		}
		addDrift(dr.services[k], sops, at)
	}
	return true
}

func addDrift(r *control.IPVSDrift, ops []ipvs.Op, at time.Time) {
	r.Count++
	r.Ops += uint64(len(ops))
	r.Last = at
	r.LastOps = r.LastOps[:0]
	for _, op := range ops[:min(len(ops), driftOpsKept)] {
		r.LastOps = append(r.LastOps, op.String())
	}
}

// copyDrift is r for a status snapshot; nil when nothing drifted.
func copyDrift(r *control.IPVSDrift) *control.IPVSDrift {
	if r == nil || r.Count == 0 {
		return nil
	}
	c := *r
	c.LastOps = slices.Clone(r.LastOps)
	return &c
}

// Drift is every outside change to the IPVS table mended since lvsd
// started, for status and the metrics; nil when there was none.
func (d *Director) Drift() *control.IPVSDrift {
	d.mu.Lock()
	defer d.mu.Unlock()
	return copyDrift(&d.drift.total)
}
