// Package director runs lvsd as a director against the real IPVS kernel:
// the host-side tests (build tag vm) boot the VM of test/vm with lvsd,
// ipvsadm and the guest tests (package guest, build tag vmguest), which
// build client, director and real-server namespaces with test/lab and send
// real traffic through the VIP.
package director
