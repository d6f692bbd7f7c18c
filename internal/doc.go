// Package internal holds lvsd's application layer, between the command
// (cmd/lvsd, which only composes) and the domain packages (vrrp,
// healthcheck, ipvs, sync, which know nothing of each other):
//
//   - control: the control socket protocol, its status types and client
//   - director: health → IPVS policy (quorum, sorry server, inhibit)
//   - daemon: the running composition of one configuration, its reload
//   - doctor: the host checks of `lvsd doctor`
//   - script: the runner of notify, track and check scripts
//
// This file's test holds the whole tree to DESIGN.md's dependency rules.
package internal
