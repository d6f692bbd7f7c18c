// Package lvsdtest drives lvsd in the tests: it finds or builds the binary
// under test (Binary), runs it in a host of the namespace lab (Start) and
// talks to it as an operator would (Status, Reload, signals, Restart). The
// namespace tier (test/e2e) and the director tests inside the VM
// (test/director/guest) share it, so both drive the daemon the same way.
//
// It imports test/lab, internal/control (the status types and client) and
// the standard library only: it is built into the
// static guest binaries, so it must not import the VM harness (test/vm).
package lvsdtest
