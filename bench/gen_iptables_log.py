#!/usr/bin/env python3
"""Generates a large traditional-syslog file of kernel LOG lines for the
flow-import throughput benchmark (bench/import.sh).

    python3 bench/gen_iptables_log.py SIZE_MB OUT_FILE

Deterministic (seeded).  A mix of the line shapes the importer meets:
three hosts, FORWARD lines with MAC= and uptime stamps, OUTPUT lines with
UID/GID, UDP with a second LEN=, ICMP echo, a few IPv6 lines.  Time runs
forward one line every ~20 ms from 2024-12-31 22:00 (crosses the new year).
Writes in large chunks; about 1 M lines per 230 MB.
"""
import random
import sys
import time

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def main():
    size = int(sys.argv[1]) * 1024 * 1024
    out = sys.argv[2]
    rnd = random.Random(7)
    t = time.mktime((2024, 12, 31, 22, 0, 0, 0, 0, 0)) - time.timezone
    up = 8400000.0
    ports = [443] * 8 + [80] * 3 + [53] * 3 + [22, 123, 5432, 993, 3306, 8080]
    written = 0
    buf = []
    with open(out, "w") as fh:
        while written < size:
            t += rnd.random() * 0.04
            up += 0.02
            g = time.gmtime(t)
            stamp = "%s %2d %02d:%02d:%02d" % (MONTHS[g.tm_mon - 1], g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)
            k = rnd.random()
            src = "192.168.%d.%d" % (rnd.randrange(1, 20), rnd.randrange(2, 250))
            dst = "%d.%d.%d.%d" % (rnd.choice((198, 203, 1, 93)), rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))
            sport = rnd.randrange(32768, 61000)
            dport = rnd.choice(ports)
            ident = rnd.randrange(65536)
            if k < 0.55:
                line = ("%s gw01 kernel: [%.6f] New Connection: IN=eth1 OUT=eth0 "
                        "MAC=00:1b:21:3a:4f:10:52:54:00:10:28:5a:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 "
                        "PREC=0x00 TTL=63 ID=%d DF PROTO=TCP SPT=%d DPT=%d WINDOW=64240 RES=0x00 SYN URGP=0 \n"
                        % (stamp, up, src, dst, ident, sport, dport))
            elif k < 0.80:
                line = ("%s web03 kernel: NEW-OUTBOUND IN= OUT=ens3 SRC=10.20.0.13 DST=%s LEN=60 TOS=0x00 "
                        "PREC=0x00 TTL=64 ID=%d DF PROTO=TCP SPT=%d DPT=%d WINDOW=64240 RES=0x00 SYN URGP=0 "
                        "UID=48 GID=48 \n" % (stamp, dst, ident, sport, dport))
            elif k < 0.95:
                line = ("%s dev07 kernel: [%12.6f] [UFW ALLOW] IN= OUT=wlp2s0 SRC=192.168.1.50 DST=%s "
                        "LEN=71 TOS=0x00 PREC=0x00 TTL=64 ID=%d DF PROTO=UDP SPT=%d DPT=53 LEN=51 \n"
                        % (stamp, up / 1000, dst, ident, sport))
            elif k < 0.99:
                line = ("%s gw01 kernel: [%.6f] New Connection: IN=eth1 OUT=eth0 SRC=%s DST=%s LEN=84 "
                        "TOS=0x00 PREC=0x00 TTL=63 ID=%d DF PROTO=ICMP TYPE=8 CODE=0 ID=%d SEQ=1 \n"
                        % (stamp, up, src, dst, ident, sport))
            else:
                line = ("%s gw01 kernel: [%.6f] New Connection: IN=eth1 OUT=eth0 "
                        "SRC=2001:0db8:0010:0000:0000:0000:0000:%04x DST=2001:0db8:cafe:0000:0000:0000:0000:0001 "
                        "LEN=80 TC=0 HOPLIMIT=63 FLOWLBL=1 PROTO=TCP SPT=%d DPT=%d WINDOW=64800 RES=0x00 SYN URGP=0 \n"
                        % (stamp, up, rnd.randrange(65536), sport, dport))
            buf.append(line)
            written += len(line)
            if len(buf) >= 20000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))


if __name__ == "__main__":
    main()
