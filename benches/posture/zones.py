"""Zones for benches/posture.sh: DOMAINS domains d0000.test, d0001.test, ...
each its own zone, cycling through the variants below, plus provider.test
(the includes they share). Writes DIR/zones/*.zone, DIR/knot.conf (Knot on
ADDRESS@PORT) and DIR/domains.txt.

    python3 zones.py DIR DOMAINS ADDRESS PORT
"""
import base64
import os
import sys

SOA = "@ 300 SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n@ 300 NS ns.example.\n"


def der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([tag, n])
    elif n < 0x100:
        head = bytes([tag, 0x81, n])
    else:
        head = bytes([tag, 0x82, n >> 8, n & 0xFF])
    return head + body


def rsa_key(bits):
    """A SubjectPublicKeyInfo of an RSA key with a `bits`-bit modulus (its
    value does not matter to a size check)."""
    n = bytes([0, 0xC1]) + bytes([0x5A]) * (bits // 8 - 1)
    rsa = der(0x30, der(0x02, n) + der(0x02, bytes([1, 0, 1])))
    oid = der(0x06, bytes([42, 134, 72, 134, 247, 13, 1, 1, 1]))
    alg = der(0x30, oid + der(0x05, b""))
    return base64.b64encode(der(0x30, alg + der(0x03, b"\0" + rsa))).decode()


def txt(text):
    parts = [text[i:i + 200] for i in range(0, len(text), 200)] or [""]
    return "TXT " + " ".join('"%s"' % p for p in parts)


def provider():
    lines = [
        "_spf " + txt("v=spf1 ip4:192.0.2.0/24 a:out.provider.test -all"),
        "out A 192.0.2.5",
        "mail " + txt("v=spf1 mx:provider.test -all"),
        "@ MX 10 mx.provider.test.",
        "mx A 192.0.2.6",
    ]
    # big: a chain of includes costing 11 lookups (each level an include
    # and an `a`).
    for k in range(6):
        nxt = " include:b%d.provider.test" % (k + 1) if k < 5 else ""
        lines.append("%s %s" % ("big" if k == 0 else "b%d" % k,
                                txt("v=spf1 a:out.provider.test%s -all" % nxt)))
    return "\n".join(lines) + "\n"


VARIANTS = [
    "good", "spf_over_limit", "void_lookups", "include_loop", "include_missing",
    "ptr_pass_all", "dmarc_twice", "dmarc_none_bad_pct", "nothing", "tlsrpt_mta_sts_bimi",
]


def domain(name, variant):
    d = name
    mx = "@ MX 10 mx1.%s.\n@ MX 20 mx2.%s.\nmx1 A 192.0.2.10\nmx2 A 192.0.2.11\n" % (d, d)
    dmarc = "_dmarc " + txt("v=DMARC1; p=reject; rua=mailto:dmarc@%s" % d) + "\n"
    spf = "@ " + txt("v=spf1 include:_spf.provider.test include:mail.provider.test -all") + "\n"
    dkim = "s1._domainkey " + txt("v=DKIM1; k=rsa; p=" + rsa_key(2048)) + "\n"
    tls = "_smtp._tls " + txt("v=TLSRPTv1; rua=mailto:tls@%s" % d) + "\n"
    extra = ""
    if variant == "spf_over_limit":
        spf = "@ " + txt("v=spf1 include:big.provider.test -all") + "\n"
    elif variant == "void_lookups":
        spf = "@ " + txt("v=spf1 a:gone1.%s a:gone2.%s mx:gone3.%s -all" % (d, d, d)) + "\n"
    elif variant == "include_loop":
        spf = "@ " + txt("v=spf1 include:loop.%s -all" % d) + "\n"
        extra += "loop " + txt("v=spf1 include:%s -all" % d) + "\n"
    elif variant == "include_missing":
        spf = "@ " + txt("v=spf1 include:nothere.provider.test -all") + "\n"
    elif variant == "ptr_pass_all":
        spf = "@ " + txt("v=spf1 ptr +all") + "\n"
    elif variant == "dmarc_twice":
        dmarc += "_dmarc " + txt("v=DMARC1; p=none") + "\n"
    elif variant == "dmarc_none_bad_pct":
        dmarc = "_dmarc " + txt("v=DMARC1; p=none; pct=150; rua=mailto:dmarc@%s" % d) + "\n"
    elif variant == "nothing":
        dmarc, spf, tls = "", "", ""
    elif variant == "tlsrpt_mta_sts_bimi":
        dmarc = "_dmarc " + txt("v=DMARC1; p=none; rua=mailto:dmarc@%s" % d) + "\n"
        tls = "_smtp._tls " + txt("v=TLSRPTv1; rua=tls@%s" % d) + "\n"
        dkim = "s1._domainkey " + txt("v=DKIM1; k=rsa; p=" + rsa_key(1024)) + "\n"
        extra += "_mta-sts " + txt("v=STSv1; id=1") + "\n"
        extra += "default._bimi " + txt("v=BIMI1; l=https://bimi.%s/logo.svg" % d) + "\n"
    return mx + dmarc + spf + dkim + tls + extra


def main():
    out, count, address, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    zones = os.path.join(out, "zones")
    os.makedirs(zones, exist_ok=True)
    names = ["d%04d.test" % i for i in range(count)]
    # The reverse zone of the MX hosts' addresses: served (so a missing PTR
    # is an NXDOMAIN, as on the Internet) and empty but for the provider's
    # outbound host.
    files = {"provider.test": provider(), "2.0.192.in-addr.arpa": "5 PTR out.provider.test.\n"}
    for i, name in enumerate(names):
        files[name] = domain(name, VARIANTS[i % len(VARIANTS)])
    config = ["server:", "    listen: %s@%s" % (address, port), "    rundir: %s" % out,
              "database:", "    storage: %s/db" % out, "log:", "  - target: stderr", "    any: warning",
              "zone:"]
    for origin, records in files.items():
        path = os.path.join(zones, origin + ".zone")
        with open(path, "w") as f:
            f.write("$ORIGIN %s.\n%s%s" % (origin, SOA, records))
        config += ["  - domain: %s" % origin, "    file: %s" % path]
    with open(os.path.join(out, "knot.conf"), "w") as f:
        f.write("\n".join(config) + "\n")
    with open(os.path.join(out, "domains.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(out, "variants.txt"), "w") as f:
        f.write("\n".join(VARIANTS[i % len(VARIANTS)] for i in range(count)) + "\n")


main()
