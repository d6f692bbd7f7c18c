vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24", "192.0.2.300/24"] # want: "192.0.2.300/24" is not an IP address
  source_ip         = "192.0.2.x" # want: Invalid source_ip
  unicast_peers     = ["192.0.2.12", "peer-b"] # want: "peer-b" is not an IP address
}
virtual_server "web" {
  address      = "192.0.2.100" # want: Port 0 needs persistence
  sorry_server = "192.0.2.99:99999" # want: Invalid sorry_server address
  real_server "192.0.2.21:http" { # want: Invalid real_server address
  }
}
connection_sync {
  interface = "eth0"
  group     = "224.0.0" # want: Invalid group
}
