# IP-in-IP tunnelling to real servers in another site.
global {
  router_id = "tun-a"
}

vrrp "VI_TUN" {
  # keepalived: state BACKUP — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 60
  priority          = 120
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["192.0.2.150"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "192.0.2.150:80" {
  address             = "192.0.2.150:80"
  scheduler           = "rr"
  forwarding          = "tun"
  persistence         = "300s"
  persistence_netmask = "255.255.255.0"
  protocol            = "tcp"

  check "http" {
    interval = "10s"
    timeout  = "5s"
    rise     = 1
    fall     = 2
    path     = "/healthz"
    status   = [200, 204]
  }

  real_server "203.0.113.31:80" {
    weight = 2
  }

  real_server "203.0.113.32:80" {
    weight = 2
  }
}
