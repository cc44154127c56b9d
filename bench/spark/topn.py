#!/usr/bin/env python3
"""The Spark proof: flow-stat's top talkers from a flow-export Parquet table.

    python3 bench/spark/topn.py EXPORT_DIR [N]

Reads a `flow-export -f parquet --partition hour -o EXPORT_DIR` table (or a
single Parquet file) with pyspark in local mode (2 workers) and prints, as
JSON lines, the top N rows of the equivalents of

    flow-stat -f 10 -S 2   Source/Destination IP pairs by flows
    flow-stat -f 5 -S 1    TCP/UDP destination ports by flows

each row as flow-stat prints it: key columns, then flows, octets, packets.
Ties are broken the way flow-stat's array reports break them (descending
key); hash reports (f10) break ties by first appearance, which a cluster
cannot see, so compare f10 ties as sets. Also prints the wall time.

Spark binds to 127.0.0.1 only; nothing leaves the machine.
"""

import json
import os
import sys
import time


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    t0 = time.time()
    from pyspark.sql import SparkSession, functions as F

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("flow-export topn")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    flows = spark.read.parquet(path)

    def dotted(col):
        c = F.col(col)
        return F.concat_ws(
            ".",
            F.shiftright(c, 24),
            F.shiftright(c, 16).bitwiseAND(255),
            F.shiftright(c, 8).bitwiseAND(255),
            c.bitwiseAND(255),
        )

    # flow-stat -f 10 -S 2: per (src, dst) pair, sorted by flows, descending.
    pairs = (
        flows.groupBy("srcaddr", "dstaddr")
        .agg(F.count(F.lit(1)).alias("flows"), F.sum("doctets").alias("octets"),
             F.sum("dpkts").alias("packets"))
        .orderBy(F.desc("flows"), F.desc("octets"), F.desc("packets"),
                 F.desc("srcaddr"), F.desc("dstaddr"))
        .limit(top)
        .select(dotted("srcaddr").alias("src"), dotted("dstaddr").alias("dst"),
                "flows", "octets", "packets")
    )
    # flow-stat -f 5 -S 1: TCP and UDP flows per destination port, by flows;
    # ties in descending port order, as flow-stat prints them.
    ports = (
        flows.where(F.col("prot").isin(6, 17))
        .groupBy("dstport")
        .agg(F.count(F.lit(1)).alias("flows"), F.sum("doctets").alias("octets"),
             F.sum("dpkts").alias("packets"))
        .orderBy(F.desc("flows"), F.desc("dstport"))
        .limit(top)
    )
    out = {
        "f10_S2": [[r.src, r.dst, r.flows, r.octets, r.packets] for r in pairs.collect()],
        "f5_S1": [[r.dstport, r.flows, r.octets, r.packets] for r in ports.collect()],
        "flows": flows.count(),
    }
    spark.stop()
    out["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
