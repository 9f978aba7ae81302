# Lists the Python environments of an image, one JSON line each (see probe.py).
# $1: distribution to look for (may be empty); $2: an explicit interpreter (may be empty);
# $3: the code of probe.py.
dist=$1
explicit=$2
probe_py=$3
seen=' '
try_python() {
  [ -f "$1" ] && [ -x "$1" ] || return 0
  case "$seen" in *" $1 "*) return 0 ;; esac
  seen="$seen$1 "
  "$1" -c "$probe_py" "$1" "$dist" 2>/dev/null || true
}
if [ -n "$explicit" ]; then
  try_python "$explicit"
  [ -f "$explicit" ] || echo "{\"missing\": true}"
  exit 0
fi
IFS=:
for d in $PATH; do try_python "$d/python3"; try_python "$d/python"; done
unset IFS
for d in /opt/venv/bin /venv/bin /opt/conda/envs/*/bin /opt/conda/bin /opt/*/bin /usr/local/bin /usr/bin; do
  try_python "$d/python3"; try_python "$d/python"
done
exit 0
