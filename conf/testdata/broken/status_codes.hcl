virtual_server "web" {
  address = "192.0.2.100:80"
  check "http" {
    status = [200, 99, 600] # want: 99 is not a whole number within 100..599
  }
}
