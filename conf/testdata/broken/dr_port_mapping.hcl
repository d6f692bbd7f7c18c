virtual_server "dr" {
  address    = "192.0.2.100:80"
  forwarding = "dr"
  real_server "192.0.2.21:8080" { # want: Port differs from the virtual port under dr
  }
  real_server "192.0.2.22" {
  }
}
virtual_server "tun" {
  address    = "192.0.2.100:443"
  forwarding = "nat"
  real_server "192.0.2.23:8443" {
  }
  real_server "192.0.2.24:8443" { # want: Port differs from the virtual port under tun
    forwarding = "tun"
  }
}
