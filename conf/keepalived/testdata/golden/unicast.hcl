# Unicast VRRP in a cloud network without multicast (dir-a's side).
global {
  router_id   = "dir-a"
  script_user = "keepalived_script"
  # keepalived: enable_script_security — not carried over: lvsd runs every script as global.script_user, never as root unless told so
}

vrrp "VI_1" {
  # keepalived: state BACKUP — not carried over: lvsd elects the master by priority; every director starts as backup
  preempt           = false
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  source_ip         = "192.0.2.11"
  unicast_peers     = ["192.0.2.12"]
  virtual_ips       = ["192.0.2.100/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "192.0.2.100:6443" {
  address    = "192.0.2.100:6443"
  scheduler  = "rr"
  forwarding = "nat"
  protocol   = "tcp"

  check "http" {
    interval = "2s"
    timeout  = "1s"
    rise     = 1
    fall     = 2
    path     = "/healthz"
    status   = [200]
    tls      = true
    # keepalived's SSL_GET does not verify the server's certificate
    tls_verify = false
  }

  real_server "198.51.100.21:6443" {
    weight = 1
  }

  real_server "198.51.100.22:6443" {
    weight = 1
  }
}
