# Direct routing (DR): the director rewrites only the destination MAC; real
# servers answer clients directly. The usual choice for web traffic.
#
# Topology (one L2 segment, 192.0.2.0/24):
#   dir-a 192.0.2.11, dir-b 192.0.2.12   VIP 192.0.2.100 (held by the master)
#   web-1 192.0.2.21, web-2 192.0.2.22   each with 192.0.2.100/32 on lo,
#                                        arp_ignore=1 and arp_announce=2
#                                        (`lvsd doctor --real-server 192.0.2.100`)
# dir-b uses the same file with priority = 100.

global {
  router_id      = "dir-a"
  metrics_listen = "127.0.0.1:9560"
}

vrrp "VI_WEB" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150 # dir-b: 100
  advert_interval   = "1s"
  virtual_ips       = ["192.0.2.100/24"]

  garp {
    delay   = "5s" # a second burst, for switches that missed the first
    repeat  = 5
    refresh = "60s"
  }
}

# The backup keeps a copy of every connection, so failover keeps sessions.
connection_sync {
  interface = "eth0"
  instance  = "VI_WEB" # master daemon on the VRRP master, backup on the backup
}

virtual_server "web" {
  address    = "192.0.2.100:80"
  protocol   = "tcp"
  scheduler  = "wlc"
  forwarding = "dr" # DR cannot map ports: real servers listen on :80 too

  check "http" {
    path     = "/healthz"
    status   = [200]
    interval = "2s"
    timeout  = "1s"
    rise     = 2
    fall     = 3
  }

  real_server "192.0.2.21:80" {
    weight = 3
  }
  real_server "192.0.2.22:80" {
    weight = 1
  }
}

virtual_server "web-tls" {
  address     = "192.0.2.100:443"
  scheduler   = "sh"      # source hashing: a client sticks to one server
  scheduler_flags = ["sh-fallback"] # …unless that server is down
  forwarding  = "dr"

  check "http" {
    tls        = true
    tls_verify = false # the servers present the VIP's certificate
    host       = "www.example.org"
    path       = "/healthz"
  }

  real_server "192.0.2.21:443" {}
  real_server "192.0.2.22:443" {}
}
