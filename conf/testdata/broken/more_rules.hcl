vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
  source_ip         = "2001:db8::11" # want: source_ip family differs from the virtual IPs
  unicast_peers     = ["192.0.2.12", "192.0.2.12"] # want: 192.0.2.12 is listed twice
  garp {
    repeat = 0 # want: repeat out of range
  }
  garp { # want: Duplicate garp block
  }
  notify {
    master = [] # want: Empty master
  }
}
vrrp "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  virtual_ips       = ["192.0.2.101/24"]
  unicast_peers     = ["2001:db8::12"] # want: Mixed address families in unicast_peers
}
track_script "slow" {
  command  = ["/bin/true"]
  interval = "1s"
  timeout  = "2s" # want: timeout longer than interval
}
sync_group "edge" {
  instances = ["VI_1", "VI_1"] # want: "VI_1" is listed twice
}
connection_sync {
  interface = "eth0"
  group     = "192.0.2.81" # want: group is not a multicast address
}
virtual_server "both" {
  address = "192.0.2.100:80"
  fwmark  = 3 # want: Both address and fwmark
}
virtual_server "neither" { # want: Missing address or fwmark
}
virtual_server "web" {
  address             = "192.0.2.100:443"
  quorum              = 2
  hysteresis          = 2 # want: hysteresis not below quorum
  persistence         = "1500ms" # want: the kernel keeps persistence in whole seconds
  persistence_netmask = "255.0.255.0" # want: Invalid persistence_netmask
  check "http" {
    digest = "not-md5" # want: Invalid digest
    method = "get" # want: Invalid method
    path   = "healthz" # want: must start with /
  }
  check "tcp" { # want: Duplicate check block
  }
  real_server "2001:db8::21" { # want: Address family differs from the service
  }
  real_server "192.0.2.22:443" {
    upper_threshold = 10
    lower_threshold = 20 # want: lower_threshold above upper_threshold
    check "dns" {
      name = "bad name!" # want: "bad name!" is not a domain name
      type = "ANY" # want: unknown DNS record type "ANY"
      path = "/" # want: An argument named "path" is not expected here
    }
  }
}
