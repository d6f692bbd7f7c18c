track_script "alive" {
  command = ["/bin/true"]
  rise    = 0 # want: rise out of range
}
virtual_server "web" {
  address = "192.0.2.100:80"
  check "tcp" {
    fall = 0 # want: fall out of range
  }
  real_server "192.0.2.21:80" {
    check "http" {
      rise = -1 # want: rise out of range
    }
  }
}
