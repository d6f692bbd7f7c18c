vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
vrrp "VI_2" {
  interface         = "eth0"
  virtual_router_id = 52
  virtual_ips       = ["192.0.2.101/24"]
  track_scripts     = ["haproxy_alive"] # want: no track_script "haproxy_alive" is defined
}
sync_group "edge" {
  instances = ["VI_1", "VI_GW"] # want: no vrrp instance "VI_GW" is defined
}
sync_group "edge2" {
  instances = ["VI_2", "VI_1"] # want: "VI_1" is already a member of sync_group "edge"
}
connection_sync {
  interface = "eth0"
  instance  = "VI_9" # want: connection_sync follows vrrp instance "VI_9", which is not defined
}
