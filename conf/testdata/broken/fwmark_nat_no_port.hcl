virtual_server "marked" {
  fwmark     = 10
  forwarding = "nat"
  real_server "192.0.2.21" { # want: NAT real_server needs a port
  }
  real_server "192.0.2.22:80" {
  }
}
virtual_server "marked-dr" {
  fwmark     = 11
  forwarding = "dr"
  real_server "192.0.2.23" {
    check "tcp" { # want: Check needs a port
    }
  }
}
