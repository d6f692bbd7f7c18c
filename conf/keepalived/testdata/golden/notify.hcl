# Notify scripts on every transition.
global {
  router_id   = "notify-a"
  script_user = "root"
}

vrrp "VI_1" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["192.0.2.100/24"]
  # keepalived: smtp_alert — not carried over: lvsd sends no mail
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]

  # lvsd appends the new state and the instance name to each command;
  # keepalived ran notify_master/backup/fault/stop as written
  notify {
    master = ["/usr/local/bin/keepalived-notify.sh", "master", "VI_1"]
    backup = ["/usr/local/bin/keepalived-backup.sh"]
    fault  = ["/usr/local/bin/keepalived-notify.sh", "fault", "link lost"]
    # keepalived: notify_stop "/usr/bin/logger -t keepalived stopped > /dev/null" — run as the argv ["/usr/bin/logger", "-t", "keepalived", "stopped", ">", "/dev/null"] without a shell, as keepalived 2.x does; its shell syntax is passed as plain words — wrap it in ["/bin/sh", "-c", …] if a shell was meant
    stop = ["/usr/bin/logger", "-t", "keepalived", "stopped", ">", "/dev/null"]
  }
}

virtual_server "192.0.2.100:25" {
  address    = "192.0.2.100:25"
  scheduler  = "wlc"
  forwarding = "dr"
  protocol   = "tcp"

  real_server "192.0.2.25:25" {
    weight = 1
    # lvsd appends UP or DOWN and the server's address; keepalived appended nothing
    notify_up   = ["/usr/local/bin/rs-event", "up", "192.0.2.25"]
    notify_down = ["/usr/local/bin/rs-event", "down", "192.0.2.25"]

    check "script" {
      interval = "15s"
      timeout  = "10s"
      rise     = 1
      fall     = 1
      command  = ["/usr/local/bin/check-smtp", "192.0.2.25"]
    }
  }
}
