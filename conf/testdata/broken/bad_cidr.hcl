vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/33"] # want: "192.0.2.100/33" is not an IP address or address/prefix-length
}
