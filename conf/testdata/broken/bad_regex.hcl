virtual_server "web" {
  address = "192.0.2.100:80"
  check "http" {
    body_regex = "ok(" # want: Invalid body_regex
  }
}
