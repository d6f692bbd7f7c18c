vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 0 # want: priority out of range; 0 is not within 1..255
  virtual_ips       = ["192.0.2.100/24"]
}
vrrp "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  priority          = 300 # want: priority out of range
  virtual_ips       = ["192.0.2.101/24"]
}
