vrrp "VI_6" {
  interface         = "eth0"
  virtual_router_id = 51
  version           = 2 # want: VRRP v2 is IPv4 only
  virtual_ips       = ["2001:db8::100/64"]
}
