# Firewall-mark service: one virtual service for everything the firewall
# marks, here HTTP and HTTPS together, so that a client's two connections go
# to the same server (persistence over the mark, not over one port).
#
#   nft add table ip mangle
#   nft add chain ip mangle prerouting '{ type filter hook prerouting priority mangle; }'
#   nft add rule ip mangle prerouting ip daddr 192.0.2.100 tcp dport '{ 80, 443 }' meta mark set 1
#
# With DR the packet goes out unchanged, so real servers need no port; the
# checks say which port to probe.

global {
  router_id = "dir-a"
}

vrrp "VI_WEB" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150 # dir-b: 100
  virtual_ips       = ["192.0.2.100/24"]
}

virtual_server "web-any-port" {
  fwmark      = 1
  scheduler   = "wlc"
  forwarding  = "dr"
  persistence = "600s"

  check "http" {
    port = 80
    path = "/healthz"
  }

  real_server "192.0.2.21" {}
  real_server "192.0.2.22" {}
}
