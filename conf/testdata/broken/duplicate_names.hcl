vrrp "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ips       = ["192.0.2.100/24"]
}
vrrp "VI_1" { # want: Duplicate vrrp "VI_1"
  interface         = "eth1"
  virtual_router_id = 52
  virtual_ips       = ["192.0.2.101/24"]
}
virtual_server "web" {
  address = "192.0.2.100:80"
  real_server "192.0.2.21:80" {}
  real_server "192.0.2.21:80" {} # want: Duplicate real_server
}
virtual_server "web" { # want: Duplicate virtual_server "web"
  address = "192.0.2.100:443"
}
virtual_server "web2" {
  address = "192.0.2.100:80" # want: Duplicate virtual service
}
global {
}
global { # want: Duplicate global block
}
