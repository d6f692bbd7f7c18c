// Package guest holds tests that run inside the VM harness (test/vm), not on
// the host: they are built with the vmguest tag into a static test binary,
// booted with a real IPVS kernel, and change that kernel's IPVS tables.
//
// They refuse to run unless LVSD_VM_GUEST=1, which only the harness's /init
// sets, so a stray `go test -tags vmguest ./...` cannot touch the host.
package guest
