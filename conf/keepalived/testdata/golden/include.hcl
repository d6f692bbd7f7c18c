# The main file; the instances and services live in include.d/.
global {
  router_id = "inc-a"
}

vrrp "VI_INC" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 81
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["192.0.2.181/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "192.0.2.181:80" {
  address    = "192.0.2.181:80"
  scheduler  = "rr"
  forwarding = "nat"
  protocol   = "tcp"

  check "tcp" {
    interval = "5s"
    timeout  = "2s"
    rise     = 1
    fall     = 2
  }

  real_server "198.51.100.41:8080" {
    weight = 1
  }

  real_server "198.51.100.42:8080" {
    weight = 2
  }
}
