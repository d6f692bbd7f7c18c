vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 300
  virtual_ips       = ["192.0.2.100/24"]
}

virtual_server "web" {
  address   = "192.0.2.100:80"
  scheduler = "fastest"

  real_server "192.0.2.21:80" {
    wieght = 2
  }
}
