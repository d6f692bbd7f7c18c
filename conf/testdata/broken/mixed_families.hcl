vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24", "2001:db8::100/64"] # want: Mixed address families in virtual_ips
}
