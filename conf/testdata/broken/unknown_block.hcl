vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
virtual_servers "web" { # want: Blocks of type "virtual_servers" are not expected here
}
