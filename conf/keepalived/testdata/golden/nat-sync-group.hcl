# NAT director pair: the outside VIP and the inside gateway VIP move together.
# Real servers use 198.51.100.1 as their default gateway.
global {
  router_id = "lvs-nat-a"
  # keepalived: lvs_sync_daemon eth1 VI_OUTSIDE id 10 maxlen 1400 port 8848 ttl 1 group 224.0.0.81 — carried over as the connection_sync block
  # keepalived ran scripts as keepalived_script if that user exists, else as root;
  # lvsd would run them as nobody. Prefer an unprivileged user that can run them.
  script_user = "root"

  ipvs_timeouts {
    tcp     = "900s"
    tcp_fin = "120s"
    udp     = "300s"
  }
}

connection_sync {
  interface = "eth1"
  instance  = "VI_OUTSIDE"
  sync_id   = 10
  max_len   = 1400
  port      = 8848
  ttl       = 1
  group     = "224.0.0.81"
}

# Lower the priority when the uplink's gateway stops answering.
track_script "chk_uplink" {
  command  = ["/usr/local/bin/check-uplink", "203.0.113.1"]
  interval = "3s"
  # keepalived: weight -50 — carried over as 0, the weight its instances see (keepalived ignores track weights inside vrrp_sync_group VG_DIRECTOR: a failure puts the group in FAULT)
  fall = 2
}

sync_group "VG_DIRECTOR" {
  instances = ["VI_OUTSIDE", "VI_INSIDE"]
}

vrrp "VI_OUTSIDE" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 10
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  auth_pass         = "lvsnat"
  virtual_ips       = ["203.0.113.10/24"]
  track_scripts     = ["chk_uplink"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

vrrp "VI_INSIDE" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth1"
  virtual_router_id = 11
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  auth_pass         = "lvsnat"
  virtual_ips       = ["198.51.100.1/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth1"]
}

virtual_server "203.0.113.10:80" {
  address      = "203.0.113.10:80"
  scheduler    = "wrr"
  forwarding   = "nat"
  persistence  = "300s"
  protocol     = "tcp"
  quorum       = 2
  hysteresis   = 1
  sorry_server = "198.51.100.99:8080"

  check "http" {
    # keepalived: delay_before_retry 1 — not carried over: lvsd retries at the check interval: a server goes down after fall (retry + 1) failed checks in a row
    interval = "5s"
    timeout  = "2s"
    rise     = 1
    fall     = 4
    path     = "/status"
    status   = [200]
  }

  real_server "198.51.100.21:8080" {
    weight = 1
  }

  real_server "198.51.100.22:8080" {
    weight = 1
  }
}

virtual_server "203.0.113.10:53/udp" {
  address    = "203.0.113.10:53"
  scheduler  = "rr"
  forwarding = "nat"
  protocol   = "udp"

  check "dns" {
    interval = "10s"
    timeout  = "5s"
    rise     = 1
    fall     = 4
    name     = "example.org"
    type     = "A"
  }

  real_server "198.51.100.21:53" {}

  real_server "198.51.100.22:53" {}
}
