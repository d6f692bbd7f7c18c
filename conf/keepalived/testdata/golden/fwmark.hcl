# HTTP and HTTPS share one firewall mark, so a client's two connections
# land on the same server:
#   iptables -t mangle -A PREROUTING -d 192.0.2.100 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1
global {
  router_id = "fw-a"
}

vrrp "VI_1" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["192.0.2.100/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "fwmark-1" {
  fwmark          = 1
  scheduler       = "sh"
  forwarding      = "dr"
  persistence     = "600s"
  scheduler_flags = ["sh-port"]

  check "tcp" {
    interval = "3s"
    timeout  = "2s"
    rise     = 1
    fall     = 2
    port     = 443
  }

  real_server "192.0.2.21" {
    # keepalived: real_server 192.0.2.21 80 { … } — carried over without its port: dr forwarding of an fwmark service sends packets unchanged (keepalived clears the port too)
    weight = 1
  }

  real_server "192.0.2.22" {
    # keepalived: real_server 192.0.2.22 80 { … } — carried over without its port: dr forwarding of an fwmark service sends packets unchanged (keepalived clears the port too)
    weight = 1
  }
}
