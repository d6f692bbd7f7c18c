# One service per kind of checker.
global {
  router_id   = "checks-a"
  script_user = "keepalived_script"
}

vrrp "VI_1" {
  # keepalived: state MASTER — not carried over: lvsd elects the master by priority; every director starts as backup
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 150
  advert_interval   = "1s"
  version           = 2
  virtual_ips       = ["192.0.2.100/24"]
  # keepalived puts an instance in FAULT when its own interface goes down
  track_interfaces = ["eth0"]
}

virtual_server "192.0.2.100:22" {
  address    = "192.0.2.100:22"
  scheduler  = "lc"
  forwarding = "dr"
  protocol   = "tcp"

  real_server "192.0.2.21:22" {
    check "tcp" {
      interval = "10s"
      timeout  = "3s"
      rise     = 1
      fall     = 4
    }
  }
}

virtual_server "192.0.2.100:80" {
  address    = "192.0.2.100:80"
  scheduler  = "wrr"
  forwarding = "dr"
  protocol   = "tcp"

  real_server "192.0.2.21:80" {
    weight = 2

    check "http" {
      # keepalived: delay_before_retry 3 — not carried over: lvsd retries at the check interval: a server goes down after fall (retry + 1) failed checks in a row
      interval = "6s"
      timeout  = "3s"
      rise     = 1
      fall     = 4
      path     = "/index.html"
      status   = [200]
      digest   = "9b3a0c85a887a256d6939da88aabd8cd"
      host     = "www.example.org"
    }
  }
}

virtual_server "192.0.2.100:443" {
  address    = "192.0.2.100:443"
  scheduler  = "wrr"
  forwarding = "dr"
  protocol   = "tcp"

  real_server "192.0.2.21:443" {
    weight = 2

    check "http" {
      interval = "6s"
      timeout  = "3s"
      rise     = 1
      fall     = 2
      path     = "/health"
      tls      = true
      # keepalived's SSL_GET does not verify the server's certificate
      tls_verify = false
    }
  }
}

virtual_server "192.0.2.100:25" {
  address    = "192.0.2.100:25"
  scheduler  = "rr"
  forwarding = "dr"
  protocol   = "tcp"

  real_server "192.0.2.25:25" {
    check "script" {
      interval = "20s"
      timeout  = "5s"
      rise     = 1
      fall     = 1
      command  = ["/usr/local/bin/check-smtp", "192.0.2.25"]
    }
  }
}

virtual_server "192.0.2.100:53/udp" {
  address    = "192.0.2.100:53"
  scheduler  = "rr"
  forwarding = "dr"
  protocol   = "udp"

  real_server "192.0.2.53:53" {
    check "dns" {
      interval = "5s"
      timeout  = "2s"
      rise     = 1
      fall     = 3
      name     = "www.example.org"
      type     = "AAAA"
    }
  }
}
