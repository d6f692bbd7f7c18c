// Package ipvs owns lvsd's view of the kernel's IPVS table: the desired
// state (services, real servers, quorum and sorry-server policy per
// service), the reconciler that moves the kernel towards it by difference
// (it adopts what it finds and never flushes unless asked), the kernel
// backend over moby/ipvs behind the Kernel interface with Fake beside it,
// the connection table, and the listing laid out as ipvsadm prints it.
//
// It imports no other lvsd package: vrrp, healthcheck, sync, conf and
// internal are beyond it; conf fills its types.
package ipvs
