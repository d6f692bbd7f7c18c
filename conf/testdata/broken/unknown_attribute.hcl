vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
  prority           = 150 # want: An argument named "prority" is not expected here. Did you mean "priority"?
}
