# Two instances, active/active: dir-a masters VI_1, dir-b masters VI_2.
# VRRP v2 (keepalived's default) with a simple password.
global {
  router_id = "dir-a"
  # keepalived: vrrp_garp_master_delay 10 — carried over into the garp block of each vrrp instance
  # keepalived: vrrp_garp_master_repeat 3 — carried over into the garp block of each vrrp instance
}

vrrp "VI_1" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 200
  advert_interval   = "2s"
  version           = 2
  # keepalived: preempt_delay 30 — not carried over: keepalived ignores it with state MASTER (it says so and clears it)
  # keepalived: auth_pass 1234567890 — carried over as its first 8 characters, all that VRRP v2 sends (keepalived cuts it too)
  auth_pass   = "12345678"
  virtual_ips = ["192.0.2.101/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]

  garp {
    delay  = "10s"
    repeat = 3
  }
}

vrrp "VI_2" {
  # keepalived: state BACKUP — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 100
  advert_interval   = "2s"
  version           = 2
  preempt_delay     = "15.5s"
  auth_pass         = "s3cret"
  virtual_ips       = ["192.0.2.102/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]

  garp {
    repeat = 1
    delay  = "10s"
  }
}
