// Package lab builds throw-away network topologies out of Linux network
// namespaces for lvsd's tier-2 tests: hosts are namespaces, segments are
// Linux bridges, each in a "switch" namespace of its own, and hosts are
// wired to segments with veth pairs.
//
// It is pure Go (netlink, setns, bind mounts; no ip binary) so the same
// lab runs unchanged inside the VM guest from a static test binary. It
// needs root.
//
//	l := lab.New(t)
//	lan := l.Network("lan")
//	a, b := l.Host("a"), l.Host("b")
//	la := a.Connect(lan, netip.MustParsePrefix("192.0.2.1/24"))
//	b.Connect(lan, netip.MustParsePrefix("192.0.2.2/24"))
//	err := b.Do(func() error { _, err := net.Dial("tcp", "192.0.2.1:80"); return err })
//	la.Cut() // silent partition: a keeps its carrier
//	la.Down() // cable pulled: a loses carrier
//
// # Names
//
// Every namespace the lab makes is named
//
//	lvl<pid>-<seq>-<kind>-<name>     e.g. lvl2p3k-0-h-dira
//
// with pid (of the test process) and seq (the lab's number in that
// process) in base 36, kind h for a host and n for a network's switch, and
// name the caller's. Namespaces are bind-mounted under /run/netns, so
// `ip netns exec NAME` and keepalived's net_namespace reach them.
//
// No interface ever exists in the root namespace: veth pairs are created
// directly with one end in the switch namespace and the other in the host
// namespace, so interfaces inside can have short fixed names (eth0, eth1…
// on hosts; br0 and p0, p1… on switches) and vanish with their namespaces.
//
// # Cleanup
//
// New registers a t.Cleanup that kills the processes started in the lab
// and removes its namespaces. go test skips cleanups when it is
// interrupted (SIGINT, SIGTERM) or panics on -timeout, so New first sweeps
// stale labs: namespaces named for a pid that is no longer alive (or for
// this pid but a lab no longer open). Sweep removes every lab namespace,
// for use outside a test run:
//
//	go run ./test/lab/labsweep     # e.g. in make: before and after the lab tier
//
// Removing a namespace first kills every process still inside it (only
// processes whose network namespace is that very namespace), so a leaked
// daemon cannot keep it alive. Sockets opened with Host.Do also keep a
// namespace alive until they are closed; close them in the test.
package lab
