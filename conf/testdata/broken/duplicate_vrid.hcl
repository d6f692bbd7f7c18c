vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
vrrp "VI_2" {
  interface         = "eth0"
  virtual_router_id = 51 # want: instance "VI_1" already uses VRID 51 for IPv4 on eth0
  virtual_ips       = ["192.0.2.101/24"]
}
vrrp "VI_OTHER_IFACE" {
  interface         = "eth1"
  virtual_router_id = 51
  virtual_ips       = ["198.51.100.100/24"]
}
vrrp "VI_V6" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["2001:db8::100/64"]
}
