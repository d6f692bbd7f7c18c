# VRRP v3 with sub-second adverts, IPv4 and IPv6.
global {
  router_id = "fast-a"
  # keepalived: vrrp_version 3 — carried over as version = 3 in each vrrp block
}

vrrp "VI_V4" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 71
  priority          = 200
  advert_interval   = "500ms"
  version           = 3
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces     = ["eth0", "eth1"]
  virtual_ips          = ["192.0.2.171/24"]
  virtual_ips_excluded = ["192.0.2.172/24", "192.0.2.173/24"]
}

vrrp "VI_V6" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 72
  priority          = 200
  advert_interval   = "250ms"
  version           = 3
  virtual_ips       = ["2001:db8::171/64"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "[2001:db8::171]:80" {
  address    = "[2001:db8::171]:80"
  scheduler  = "lc"
  forwarding = "dr"
  protocol   = "tcp"

  check "tcp" {
    interval = "1.5s"
    timeout  = "500ms"
    rise     = 1
    fall     = 2
  }

  real_server "[2001:db8::21]:80" {
    weight = 10
  }

  real_server "[2001:db8::22]:80" {
    weight = 10
  }
}
