// Package sync owns IPVS connection synchronisation: the kernel's sync
// daemons, driven over generic netlink (IPVS_CMD_NEW/DEL/GET_DAEMON, which
// moby/ipvs lacks) behind the Control interface with Fake beside it; the
// Follower that reconciles them from a VRRP state, the Loop that feeds it
// transitions in order, and the Observer that decodes the sync traffic
// arriving from the peer.
//
// It imports no other lvsd package: vrrp, ipvs, healthcheck, conf and
// internal are beyond it; the caller passes it VRRP states as booleans.
package sync
