vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 256 # want: virtual_router_id out of range
  virtual_ips       = ["192.0.2.100/24"]
}
vrrp "VI_2" {
  interface         = "eth0"
  virtual_router_id = 0 # want: virtual_router_id out of range
  virtual_ips       = ["192.0.2.101/24"]
}
