# The configuration of DESIGN.md, every setting given.
global {
  router_id      = "dir-a"
  control_socket = "/run/lvsd/lvsd.sock"
  metrics_listen = "127.0.0.1:9560"
  script_user    = "nobody"
  log_level      = "debug"
  log_format     = "json"
  flush_on_stop  = false
  ipvs_timeouts {
    tcp     = "900s"
    tcp_fin = "120s"
    udp     = "300s"
  }
}

vrrp "VI_1" {
  interface            = "eth0"
  virtual_router_id    = 51
  priority             = 150
  advert_interval      = "1s"
  version              = 3
  preempt              = true
  preempt_delay        = "0s"
  virtual_ips          = ["192.0.2.100/24"]
  virtual_ips_excluded = ["2001:db8::100/64"]
  source_ip            = "192.0.2.11"
  unicast_peers        = ["192.0.2.12"]
  track_interfaces     = ["eth1"]
  track_scripts        = ["haproxy_alive"]

  garp {
    delay   = "5s"
    repeat  = 5
    refresh = "0s"
  }
  notify {
    master = ["/usr/local/bin/on-state", "master"]
    backup = ["/usr/local/bin/on-state", "backup"]
    fault  = ["/usr/local/bin/on-state", "fault"]
    stop   = ["/usr/local/bin/on-state", "stop"]
  }
}

vrrp "VI_GW" {
  interface         = "eth1"
  virtual_router_id = 52
  version           = 2
  auth_pass         = "secret"
  advert_interval   = "2s"
  virtual_ips       = ["198.51.100.1"]
}

track_script "haproxy_alive" {
  command  = ["/usr/bin/pgrep", "haproxy"]
  interval = "2s"
  timeout  = "1s"
  weight   = -20
  rise     = 2
  fall     = 2
}

sync_group "edge" {
  instances = ["VI_1", "VI_GW"]
}

connection_sync {
  interface = "eth0"
  instance  = "VI_1"
  group     = "224.0.0.81"
  port      = 8848
  ttl       = 1
  max_len   = 1472
}

virtual_server "web" {
  address             = "192.0.2.100:80"
  protocol            = "tcp"
  scheduler           = "wlc"
  scheduler_flags     = []
  forwarding          = "nat"
  persistence         = "300s"
  persistence_netmask = "255.255.255.0"
  quorum              = 2
  hysteresis          = 1
  sorry_server        = "192.0.2.99:80"
  inhibit_on_failure  = false

  check "http" {
    path       = "/healthz"
    status     = [200]
    body_regex = "ok"
    host       = "www.example.org"
    tls        = false
    tls_verify = true
    port       = 8080
    interval   = "2s"
    timeout    = "1s"
    rise       = 2
    fall       = 3
  }

  real_server "192.0.2.21:80" {
    weight     = 3
    forwarding = "nat"
    check "tcp" {}
    notify_up   = ["/usr/local/bin/rs-event", "up"]
    notify_down = ["/usr/local/bin/rs-event", "down"]
  }
  real_server "192.0.2.22:8080" {}
}

virtual_server "dns" {
  address   = "[2001:db8::53]:53"
  protocol  = "udp"
  scheduler = "mh"
  scheduler_flags = ["mh-port", "mh-fallback"]
  forwarding = "dr"
  check "dns" {
    name = "example.org"
    type = "aaaa"
  }
  real_server "[2001:db8::21]:53" {}
  real_server "2001:db8::22" {
    check "script" {
      command = ["/usr/local/bin/check-dns", "2001:db8::22"]
    }
  }
}

virtual_server "marked" {
  fwmark     = 10
  forwarding = "tun"
  real_server "203.0.113.21" {
    check "tcp" {
      port = 443
    }
  }
}
