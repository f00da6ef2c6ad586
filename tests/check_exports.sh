#!/usr/bin/env bash
# libcudago.so exports the C ABI and nothing else (no C++ symbols, no static CUDA runtime), and
# carries the SONAME libcudago.so.<abi> (<major>, or 0.<minor> before 1.0).
set -euo pipefail
lib=$1
major=$2
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
count=$(printf '%s\n' "$syms" | grep -c '^cudago_' || true)
others=$(printf '%s\n' "$syms" | grep -v '^cudago_' | grep -v '^$' || true)
if [ -n "$others" ]; then
  echo "exported symbols outside the C ABI:"
  printf '%s\n' "$others" | head -20
  exit 1
fi
[ "$count" -ge 40 ] || { echo "only $count cudago_* symbols exported"; exit 1; }
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libcudago.so.$major" ] || { echo "SONAME is '$soname', want libcudago.so.$major"; exit 1; }
echo "exports: $count cudago_* symbols, nothing else; SONAME $soname"
