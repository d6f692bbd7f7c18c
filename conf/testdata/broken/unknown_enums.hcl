virtual_server "web" {
  address         = "192.0.2.100:80"
  protocol        = "icmp" # want: unknown protocol "icmp"
  scheduler       = "round-robin" # want: Unknown scheduler
  forwarding      = "direct" # want: unknown forwarding method "direct"
  check "ping" { # want: unknown check kind "ping"
  }
  real_server "192.0.2.21:80" {
    forwarding = "masq" # want: unknown forwarding method "masq"
  }
}
virtual_server "hash" {
  address         = "192.0.2.100:443"
  scheduler       = "sh"
  scheduler_flags = ["sh-port", "mh-port"] # want: scheduler flag "mh-port" applies to scheduler "mh", not "sh"
}
virtual_server "flags" {
  address         = "192.0.2.100:8443"
  scheduler       = "mh"
  scheduler_flags = ["sticky"] # want: unknown scheduler flag "sticky"
}
