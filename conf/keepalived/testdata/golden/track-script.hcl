# The VIP follows a running HAProxy.
global {
  router_id   = "haproxy-a"
  script_user = "keepalived_script"
  # keepalived: enable_script_security — not carried over: lvsd runs every script as global.script_user, never as root unless told so
}

track_script "chk_haproxy" {
  command  = ["/usr/bin/killall", "-0", "haproxy"]
  interval = "2s"
  weight   = -60
  fall     = 2
  rise     = 2
  timeout  = "1s"
}

track_script "chk_disk" {
  command  = ["/usr/local/bin/check-disk", "/var"]
  interval = "10s"
  fall     = 3
  timeout  = "5s"
}

vrrp "VI_1" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["192.0.2.100/24"]
  track_scripts     = ["chk_haproxy", "chk_disk"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

vrrp "VI_2" {
  # keepalived: state BACKUP — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth1"
  virtual_router_id = 52
  priority          = 100
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["198.51.100.100/24"]
  track_scripts     = ["chk_haproxy"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth1"]
}
