// Package healthcheck owns the health of real servers: the checkers (tcp,
// http/https, script, dns), the scheduler that runs each target's checks
// with rise/fall hysteresis so that a check never blocks another, and the
// transitions it reports as events. What a transition does to IPVS is the
// caller's business (internal/director).
//
// It imports no other lvsd package: vrrp, ipvs, sync, conf and internal
// are beyond it; conf fills its types.
package healthcheck
