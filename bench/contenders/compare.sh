#!/usr/bin/env bash
# Sluice's direct stream, Spark Streaming's Kafka direct stream (DStreams) and Flink's Kafka
# source on the same forked broker and the same data (KafkaReadBench's: 5 M records of 100-byte
# values, 4 partitions), each on 2 task slots doing the same map -> filter -> count. Rounds of
# Sluice (KafkaReadBench: the same-work limit and Sluice, interleaved), Spark, Flink, one JVM each
# after the other, so that a load change on the machine shows as a difference between rounds.
#
#   bench/contenders/compare.sh            # RECORDS, SLOTS, ROUNDS, WARMUP, PASSES override
#
# Prints each JVM's summary lines; the whole output of each (every pass) is kept in LOGS
# (default bench/contenders/target/compare, emptied first).
#
# Spark's rate counts its batches' processing time only, Flink's the time from its first record to
# its last: both leave their start-up out, in their favour (see SparkReadBench, FlinkReadBench).
# Sluice is measured twice: over whole passes whose batches run back to back, and --paced, one
# batch a second on the system clock and Spark's measure (the processing times of its batches).
# Each also prints its process CPU per record over its batches (Flink: first to last record).
set -euo pipefail
RECORDS=${RECORDS:-5000000}
SLOTS=${SLOTS:-2}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-8}
PASSES=${PASSES:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
LOGS=${LOGS:-bench/contenders/target/compare}
export LOGS

if [[ "${1:-}" != "--rounds" ]]; then
  ./mvnw -q -B install -pl bench -am -DskipTests
  ./mvnw -q -B -o dependency:build-classpath -pl bench -Dmdep.outputFile=target/cp.txt
  ./mvnw -q -B -f bench/contenders/pom.xml package dependency:build-classpath \
    -Dmdep.outputFile=target/cp.txt
  rm -rf "$LOGS"
  mkdir -p "$LOGS"
  exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/cp.txt)" \
    io.sluice.bench.ContenderBroker --records "$RECORDS" -- "$0" --rounds
fi

# Inside ContenderBroker: BOOTSTRAP_SERVERS names the broker.
sluice_cp="bench/target/classes:$(cat bench/target/cp.txt)"
spark_cp="bench/contenders/spark/target/classes:$(cat bench/contenders/spark/target/cp.txt)"
flink_cp="bench/contenders/flink/target/classes:$(cat bench/contenders/flink/target/cp.txt)"
# What Spark's launcher adds on Java 17 (JavaModuleOptions).
spark_opens=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
  java.util.concurrent java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action \
  sun.util.calendar; do
  spark_opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
heap=(-Xmx2g -XX:G1HeapRegionSize=4m)
summary='^(Summary|sluice / same-work limit|  sluice direct stream.*first batch)'
for round in $(seq 1 "$ROUNDS"); do
  echo "=== round $round: sluice (batches back to back, whole pass)"
  java "${heap[@]}" -cp "$sluice_cp" io.sluice.bench.KafkaReadBench \
    --bootstrap-servers "$BOOTSTRAP_SERVERS" --records "$RECORDS" --slots "$SLOTS" \
    --readers limit,limit_on_slots,sluice --warmup "$WARMUP" --passes "$PASSES" 2>&1 \
    | tee "$LOGS/round-$round-sluice.log" | grep -E "$summary"
  echo "=== round $round: sluice --paced (one batch a second, Spark's measure)"
  java "${heap[@]}" -cp "$sluice_cp" io.sluice.bench.KafkaReadBench \
    --bootstrap-servers "$BOOTSTRAP_SERVERS" --records "$RECORDS" --slots "$SLOTS" \
    --readers sluice --paced --warmup "$WARMUP" --passes "$PASSES" 2>&1 \
    | tee "$LOGS/round-$round-sluice-paced.log" | grep -E "$summary"
  echo "=== round $round: spark"
  java "${heap[@]}" "${spark_opens[@]}" -cp "$spark_cp" \
    io.sluice.contenders.spark.SparkReadBench "$RECORDS" "$SLOTS" 4 "$WARMUP" "$PASSES" \
    2>&1 | tee "$LOGS/round-$round-spark.log" | grep -E "^Spark DStreams"
  echo "=== round $round: flink"
  java "${heap[@]}" -cp "$flink_cp" \
    io.sluice.contenders.flink.FlinkReadBench "$RECORDS" "$SLOTS" "$WARMUP" "$PASSES" \
    2>&1 | tee "$LOGS/round-$round-flink.log" | grep -E "^Flink"
done
