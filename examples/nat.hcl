# NAT: the director rewrites addresses both ways, so replies must come back
# through it. Real servers live on a private segment and use the director's
# inside VIP as their default gateway; the two VIPs fail over together.
#
# Topology:
#   outside 203.0.113.0/24 (eth0): VIP 203.0.113.10, dir-a .11, dir-b .12
#   inside  198.51.100.0/24 (eth1): gateway VIP 198.51.100.1, app-1 .21, app-2 .22
# The director needs net.ipv4.ip_forward = 1 (`lvsd doctor` checks it).
# dir-b uses the same file with priority = 100 in both instances.

global {
  router_id = "dir-a"
  ipvs_timeouts {
    tcp     = "900s"
    tcp_fin = "120s"
    udp     = "300s"
  }
}

vrrp "VI_OUTSIDE" {
  interface         = "eth0"
  virtual_router_id = 10
  priority          = 150
  virtual_ips       = ["203.0.113.10/24"]
}

vrrp "VI_INSIDE" {
  interface         = "eth1"
  virtual_router_id = 11
  priority          = 150
  virtual_ips       = ["198.51.100.1/24"]
}

# A director that holds the outside VIP but not the inside gateway would
# send requests in and never see the replies: move both together.
sync_group "director" {
  instances = ["VI_OUTSIDE", "VI_INSIDE"]
}

connection_sync {
  interface = "eth1"
  instance  = "VI_OUTSIDE"
}

virtual_server "app" {
  address     = "203.0.113.10:80"
  scheduler   = "wrr"
  forwarding  = "nat"   # NAT may map ports: the apps listen on :8080
  persistence = "300s"  # a client returns to the same app for 5 minutes
  quorum      = 2       # both apps' weight: below it, the sorry server answers
  hysteresis  = 1
  sorry_server = "198.51.100.99:8080"

  check "http" {
    path       = "/status"
    body_regex = "\"ready\":\\s*true"
    interval   = "1s"
    timeout    = "500ms"
  }

  real_server "198.51.100.21:8080" {
    weight = 1
  }
  real_server "198.51.100.22:8080" {
    weight = 1
  }
}

virtual_server "dns" {
  address    = "203.0.113.10:53"
  protocol   = "udp"
  scheduler  = "rr"
  forwarding = "nat"

  check "dns" {
    name = "example.org"
    type = "A"
  }

  real_server "198.51.100.21:53" {}
  real_server "198.51.100.22:53" {}
}
