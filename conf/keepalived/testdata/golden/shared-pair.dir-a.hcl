# Imported for keepalived config id "dir-a" (lvsd import-keepalived --config-id):
# the lines of the keepalived file marked @ID for another id, or @^dir-a, are left out.

# One keepalived.conf for both directors of the pair, deployed unchanged
# to dir-a and dir-b: keepalived reads the lines marked @dir-a only on
# dir-a (its config id, the host name by default) and @dir-b only on dir-b.
global {
  router_id   = "dir-a"
  script_user = "keepalived_script"
  # keepalived: enable_script_security — not carried over: lvsd runs every script as global.script_user, never as root unless told so
}

track_script "chk_nginx" {
  command  = ["/usr/bin/pgrep", "-x", "nginx"]
  interval = "2s"
  weight   = -60
  fall     = 2
  rise     = 2
  timeout  = "1s"
}

vrrp "VI_WEB" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 61
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  source_ip         = "192.0.2.11"
  unicast_peers     = ["192.0.2.12"]
  virtual_ips       = ["192.0.2.130/24"]
  track_scripts     = ["chk_nginx"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "192.0.2.130:80" {
  address    = "192.0.2.130:80"
  scheduler  = "wrr"
  forwarding = "dr"
  protocol   = "tcp"

  check "http" {
    interval = "3s"
    timeout  = "2s"
    rise     = 1
    fall     = 3
    port     = 8080
    path     = "/healthz"
    status   = [200]
  }

  real_server "192.0.2.31:80" {
    weight = 2
  }

  real_server "192.0.2.32:80" {
    weight = 1
  }
}
