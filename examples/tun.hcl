# Tunnelling (TUN): the director wraps each packet in IP-in-IP to the real
# server, which may sit on another network; it answers clients directly.
#
# Topology:
#   dir-a 192.0.2.11, dir-b 192.0.2.12 on eth0; VIP 192.0.2.100
#   cache-1 203.0.113.21, cache-2 203.0.113.22, routed from the directors,
#   each with a tunl0 holding 192.0.2.100/32, rp_filter off on tunl0 and
#   arp_ignore=1 / arp_announce=2 (`lvsd doctor --real-server 192.0.2.100`)

global {
  router_id = "dir-a"
}

vrrp "VI_CACHE" {
  interface         = "eth0"
  virtual_router_id = 60
  priority          = 150 # dir-b: 100
  advert_interval   = "200ms" # sub-second: failover in ~0.7s (v3 only)
  virtual_ips       = ["192.0.2.100/24"]
}

virtual_server "cache" {
  address    = "192.0.2.100:80"
  scheduler  = "lblc" # locality-based: a destination address keeps its cache
  forwarding = "tun"

  check "tcp" {
    interval = "1s"
  }

  real_server "203.0.113.21:80" {
    weight          = 10
    upper_threshold = 5000 # stop sending new connections above this
    lower_threshold = 4000
  }
  real_server "203.0.113.22:80" {
    weight = 10
  }
}
