// Package syncguest proves package sync against the real IPVS kernel: its
// tests run inside the VM harness (test/vm), built with the vmguest tag
// into a static test binary, and start and stop that kernel's sync
// daemons in throwaway network namespaces.
//
// Like test/vm/guest, they refuse to run unless LVSD_VM_GUEST=1, which
// only the harness's /init sets. The host side is test/vm/sync_test.go
// (tag vm): go test -tags vm -count=1 -v -run Sync ./test/vm/
package syncguest
