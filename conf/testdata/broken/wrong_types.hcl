global {
  flush_on_stop = "maybe" # want: Invalid flush_on_stop
  log_level     = "verbose" # want: "verbose" is not one of debug, info, warn, error
}
vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51.5 # want: must be a whole number
  virtual_ips       = "192.0.2.100/24" # want: must be a list
}
