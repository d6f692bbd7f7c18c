// Package ipvsguest proves package ipvs against the real IPVS kernel: its
// tests run inside the VM harness (test/vm), built with the vmguest tag
// into a static test binary, and rewrite that kernel's IPVS tables.
//
// Like test/vm/guest, they refuse to run unless LVSD_VM_GUEST=1, which
// only the harness's /init sets. The host side is test/vm/ipvs_test.go
// (tag vm) and, for the cold-apply benchmark, test/vm/ipvs_bench_test.go
// (tag bench).
package ipvsguest
