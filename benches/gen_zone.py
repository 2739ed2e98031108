#!/usr/bin/env python3
"""Generates the benchmark zone and its dnsperf query file.

usage: gen_zone.py OUT_DIR [NAMES]   (default 100000 names)

Zone bench.example.: hosts with A (a tenth also AAAA), MX, CNAMEs to hosts, and
delegations with glue. Queries: A, AAAA, MX, CNAME-chased A, names under cuts
(referrals) and names that do not exist (NXDOMAIN), shuffled with a fixed seed.
"""
import os
import random
import sys

out = sys.argv[1]
names = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
origin = "bench.example."
rng = random.Random(42)
os.makedirs(out, exist_ok=True)

hosts = names * 6 // 10
mx = names // 10
cnames = names // 10
cuts = names - hosts - mx - cnames

with open(os.path.join(out, "bench.example.zone"), "w") as z:
    z.write(f"$ORIGIN {origin}\n$TTL 3600\n")
    z.write("@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\n@ NS ns2\n")
    z.write("ns1 A 192.0.2.1\nns2 A 192.0.2.2\n")
    for i in range(hosts):
        z.write(f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
        if i % 10 == 0:
            z.write(f"h{i} AAAA 2001:db8::{i >> 16:x}:{i & 0xffff:x}\n")
    for i in range(mx):
        z.write(f"m{i} MX 10 h{i}\n")
    for i in range(cnames):
        z.write(f"c{i} CNAME h{rng.randrange(hosts)}\n")
    for i in range(cuts):
        z.write(f"d{i} NS ns.d{i}\nns.d{i} A 172.16.{i >> 8 & 255}.{i & 255}\n")

queries = []
for _ in range(names):
    r = rng.random()
    if r < 0.5:
        queries.append(f"h{rng.randrange(hosts)}.{origin} A")
    elif r < 0.6:
        queries.append(f"h{rng.randrange(hosts // 10) * 10}.{origin} AAAA")
    elif r < 0.7:
        queries.append(f"m{rng.randrange(mx)}.{origin} MX")
    elif r < 0.8:
        queries.append(f"c{rng.randrange(cnames)}.{origin} A")
    elif r < 0.9:
        queries.append(f"www.d{rng.randrange(cuts)}.{origin} A")
    else:
        queries.append(f"nx{rng.randrange(10**9)}.{origin} A")
with open(os.path.join(out, "queries.txt"), "w") as q:
    q.write("\n".join(queries) + "\n")
