vrrp "V3_SHORT" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ips       = ["192.0.2.1/24"]
  advert_interval   = "5ms" # want: advert_interval out of range
}
vrrp "V3_LONG" {
  interface         = "eth0"
  virtual_router_id = 2
  virtual_ips       = ["192.0.2.2/24"]
  advert_interval   = "41s" # want: advert_interval out of range
}
vrrp "V3_NOT_CENTISECONDS" {
  interface         = "eth0"
  virtual_router_id = 3
  virtual_ips       = ["192.0.2.3/24"]
  advert_interval   = "15ms" # want: v3 advertises in centiseconds
}
vrrp "V2_FRACTION" {
  interface         = "eth0"
  virtual_router_id = 4
  version           = 2
  virtual_ips       = ["192.0.2.4/24"]
  advert_interval   = "1500ms" # want: advert_interval invalid for VRRP v2
}
vrrp "NOT_A_DURATION" {
  interface         = "eth0"
  virtual_router_id = 5
  virtual_ips       = ["192.0.2.5/24"]
  advert_interval   = "1 second" # want: is not a duration
}
