# Configuration File for keepalived: a DR web director pair (dir-a).
# dir-b is the same with state BACKUP and priority 100.
global {
  # keepalived: notification_email { … } — not carried over: lvsd sends no mail; alert from its metrics or logs
  # keepalived: notification_email_from keepalived@dir-a.example.org — not carried over: lvsd sends no mail
  # keepalived: smtp_server 127.0.0.1 — not carried over: lvsd sends no mail
  # keepalived: smtp_connect_timeout 30 — not carried over: lvsd sends no mail
  router_id = "dir-a"
}

vrrp "VI_WEB" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  # keepalived: 192.0.2.100/24 dev eth0 label eth0:vip — not carried over: label eth0:vip (lvsd adds VIPs without a label)
  virtual_ips = ["192.0.2.100/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

# The web farm: real servers hold 192.0.2.100 on lo with arp_ignore=1.
virtual_server "192.0.2.100:80" {
  address     = "192.0.2.100:80"
  scheduler   = "wlc"
  forwarding  = "dr"
  persistence = "50s"
  protocol    = "tcp"

  check "tcp" {
    # keepalived: delay_before_retry 2 — not carried over: lvsd retries at the check interval: a server goes down after fall (retry + 1) failed checks in a row
    interval = "6s"
    timeout  = "3s"
    rise     = 1
    fall     = 3
  }

  real_server "192.0.2.21:80" {
    weight = 3
  }

  real_server "192.0.2.22:80" {
    weight = 1
  }
}

virtual_server "192.0.2.100:443" {
  address     = "192.0.2.100:443"
  scheduler   = "wlc"
  forwarding  = "dr"
  persistence = "50s"
  protocol    = "tcp"

  check "tcp" {
    interval = "6s"
    timeout  = "3s"
    rise     = 1
    fall     = 2
  }

  real_server "192.0.2.21:443" {
    weight = 3
  }

  real_server "192.0.2.22:443" {
    weight = 1
  }
}
