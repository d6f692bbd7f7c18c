# Unicast VRRP, dir-b's side (dir-a: unicast.hcl). For networks that drop
# multicast (clouds, some switches): adverts go to the named peer only and
# adverts from any other source are dropped. v2 is used here to show a
# pair that must interoperate with an older keepalived during a migration.

global {
  router_id = "dir-b"
}

vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 2
  auth_pass         = "s3cret"      # v2 only, at most 8 bytes
  priority          = 100
  advert_interval   = "1s"          # v2: whole seconds
  source_ip         = "192.0.2.12"  # this director
  unicast_peers     = ["192.0.2.11"] # the other director
  virtual_ips       = ["192.0.2.100/24"]
  track_interfaces  = ["eth0"]
  track_scripts     = ["haproxy"]

  notify {
    master = ["/usr/local/bin/lvsd-notify", "master"]
    backup = ["/usr/local/bin/lvsd-notify", "backup"]
    fault  = ["/usr/local/bin/lvsd-notify", "fault"]
  }
}

# A local HAProxy in front of the VIP: when it dies, give the VIP away.
track_script "haproxy" {
  command  = ["/usr/bin/pgrep", "-x", "haproxy"]
  interval = "2s"
  timeout  = "1s"
  weight   = -60 # 100 - 60 = 40: dir-a keeps or takes the VIP
  fall     = 2
  rise     = 2
}
