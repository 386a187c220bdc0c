# Shared by benchmarks/select.sh and benchmarks/select_arms.sh (sourced; needs $PY).

budget_rows() {  # budget file: a count (≥ 1) as is, or a fraction of the file's lines
  $PY -c "import sys; b=float(sys.argv[1]); n=sum(1 for _ in open(sys.argv[2])); print(int(b) if b>=1 else round(b*n))" "$1" "$2"
}

random_subset() {  # in out n seed: n random rows of in, kept in input order
  $PY - "$1" "$2" "$3" "$4" <<'PY'
import random, sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()
keep = sorted(random.Random(int(sys.argv[4])).sample(range(len(rows)), min(int(sys.argv[3]), len(rows))))
open(sys.argv[2], "w", encoding="utf-8").write("".join(rows[i] + "\n" for i in keep))
PY
}
