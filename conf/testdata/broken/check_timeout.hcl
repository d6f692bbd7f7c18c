virtual_server "web" {
  address = "192.0.2.100:80"
  check "tcp" {
    interval = "1s"
    timeout  = "1s" # want: Check timeout not below interval
  }
  real_server "192.0.2.21:80" {
    check "http" {
      timeout = "5s" # want: timeout 5s must be shorter than interval 2s
    }
  }
}
