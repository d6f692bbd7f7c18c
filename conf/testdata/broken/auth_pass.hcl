vrrp "V3_AUTH" {
  interface         = "eth0"
  virtual_router_id = 1
  virtual_ips       = ["192.0.2.1/24"]
  auth_pass         = "secret" # want: auth_pass needs version = 2
}
vrrp "V2_LONG" {
  interface         = "eth0"
  virtual_router_id = 2
  version           = 2
  virtual_ips       = ["192.0.2.2/24"]
  auth_pass         = "longer-than-8" # want: auth_pass too long
}
