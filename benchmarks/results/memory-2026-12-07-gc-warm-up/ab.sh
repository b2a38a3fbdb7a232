#!/usr/bin/env bash
for rep in 1 2 3; do
  for v in before after; do
    OUT=/tmp/p40/$v-$rep JAR=/tmp/aw-$v.jar bash /tmp/p40/probe40.sh
  done
done
echo done > /tmp/p40/finished
