vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = [] # want: Empty virtual_ips
}
vrrp "VI_2" { # want: The argument "virtual_ips" is required
  interface         = "eth0"
  virtual_router_id = 52
}
